import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { rememberSocket } from './request-tracking.js';

/** One HTTP-level connection of an attached server. */
export interface Connection {
  readonly socket: Socket;
  /** Requests received and not yet answered (more than one when pipelined). */
  active: number;
  /** Requests received on this connection so far. */
  served: number;
  /** Handed over to an `upgrade` listener (WebSocket): no longer HTTP. */
  upgraded: boolean;
  /**
   * The latest response not yet finished. With pipelining, earlier ones may be pending too;
   * the latest is the one whose `Connection: close` ends the connection.
   */
  response: ServerResponse | undefined;
}

/** The connections of one server, so that the close can tell idle, busy and fresh apart. */
export class Connections {
  readonly #bySocket = new Map<Socket, Connection>();
  /** TLS sockets still in their handshake: not HTTP yet, but they hold the server open. */
  readonly #handshaking = new Set<Socket>();
  readonly #closing: AbortSignal;

  constructor(closing: AbortSignal) {
    this.#closing = closing;
  }

  get size(): number {
    return this.#bySocket.size;
  }

  get(socket: Socket): Connection | undefined {
    return this.#bySocket.get(socket);
  }

  add(socket: Socket): Connection {
    const connection: Connection = {
      socket,
      active: 0,
      served: 0,
      upgraded: false,
      response: undefined,
    };
    this.#bySocket.set(socket, connection);
    rememberSocket(socket, this.#closing);
    socket.once('close', () => this.#bySocket.delete(socket));
    return connection;
  }

  addHandshaking(socket: Socket): void {
    this.#handshaking.add(socket);
    socket.once('close', () => this.#handshaking.delete(socket));
  }

  handshakeDone(socket: Socket): void {
    this.#handshaking.delete(socket);
  }

  /** Adds `Connection: close` to every response whose headers are not sent yet. */
  closeAfterResponses(): void {
    for (const { response } of this.#bySocket.values()) {
      if (response !== undefined && !response.headersSent)
        response.setHeader('connection', 'close');
    }
  }

  /** Counts by kind, for the log line of the close. */
  counts(): { busy: number; idle: number; fresh: number; upgraded: number } {
    const counts = { busy: 0, idle: 0, fresh: 0, upgraded: 0 };
    for (const c of this.#bySocket.values()) {
      if (c.upgraded) counts.upgraded++;
      else if (c.active > 0) counts.busy++;
      else if (c.served > 0) counts.idle++;
      else counts.fresh++;
    }
    return counts;
  }

  /**
   * Gives a connection that has sent no request `graceMs` to send one, then closes it. It was
   * accepted before the server closed: refusing its request now would be a reset.
   */
  closeIfSilent(connection: Connection, graceMs: number): void {
    const timer = setTimeout(() => {
      if (connection.served === 0 && !connection.upgraded) connection.socket.destroy();
    }, graceMs);
    timer.unref();
    connection.socket.once('close', () => clearTimeout(timer));
  }

  /** Applies {@link closeIfSilent} to every connection that has sent nothing yet. */
  closeSilent(graceMs: number): void {
    for (const c of this.#bySocket.values()) {
      if (c.served === 0 && !c.upgraded) this.closeIfSilent(c, graceMs);
    }
  }

  /** Destroys every connection (the drain deadline passed); returns how many were open. */
  destroyAll(): number {
    let count = 0;
    for (const socket of [...this.#bySocket.keys(), ...this.#handshaking]) {
      if (socket.destroyed) continue;
      socket.destroy();
      count++;
    }
    return count;
  }
}
