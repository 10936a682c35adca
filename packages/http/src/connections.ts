import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { rememberSocket, type ServedBy } from './request-tracking.js';

/** One HTTP-level connection of an attached server. */
export interface Connection {
  readonly socket: Socket;
  /**
   * Whether each of this connection's responses is listened to (its end noticed when it closes):
   * once the worker watches the server's work, from the drain on, or after a pipelined request.
   * Until then `active` and `response` are not kept: the connection has one request at most, and
   * it is in flight while Node is writing its response (the socket's own record of it).
   */
  watched: boolean;
  /** Requests received and not yet answered (more than one when pipelined); kept when watched. */
  active: number;
  /**
   * Of those, the ones counted as the worker's in-flight work (probes are not): the server's
   * table of requests in flight is its connections. Unwatched: 1 from a request until it is
   * released, whether or not it has ended since.
   */
  counted: number;
  /**
   * When the first of the counted requests began (the worker's clock): without pipelining,
   * when the request in flight began.
   */
  startedAt: number;
  /** The latest request's method and URL, as they arrived (frameworks rewrite `req.url`). */
  method: string | undefined;
  url: string | undefined;
  /** Requests received on this connection so far. */
  served: number;
  /** Handed over to an `upgrade` listener (WebSocket): no longer HTTP. */
  upgraded: boolean;
  /**
   * The latest response, kept once watched, until it closes. With pipelining, earlier ones may
   * be pending too; the latest is the one whose `Connection: close` ends the connection.
   */
  response: ServerResponse | undefined;
  /**
   * When the connection last finished a response (or was accepted), in epoch ms: kept only
   * from the start of the drain on (it is read at each response's end, which is not listened
   * to before); the start of the drain stands for earlier activity. 0 before.
   */
  lastActiveAt: number;
  /** The server sent its FIN on this connection (it closes once the peer answers with its own). */
  finSent: boolean;
  /** The socket has closed; the connection stays in the table until its last response closes. */
  closed: boolean;
}

/**
 * How long a kept-alive connection must have been idle before the closing server sends it a
 * FIN. A load balancer's keep-alive pool hands out the most recently used connection first
 * (nginx is LIFO), so a connection idle this long is the least likely to carry the next
 * request; one that does carry a request is answered with `Connection: close` instead.
 */
export const QUIET_MS = 300;

/**
 * How long a connection may linger after the server's FIN before it is destroyed: the peer
 * normally answers with its own FIN within a round trip. Reading until then (instead of
 * closing at once) is what keeps a late byte from turning into a reset.
 */
export const LINGER_MS = 1000;

/**
 * A socket's connection, on the socket itself: the lookup of every request is a property load,
 * where a `Map` keyed by the socket hashes it. A socket belongs to one server, so to one table.
 */
const kConnection = Symbol('handover.connection');
type TaggedSocket = Socket & { [kConnection]?: Connection | undefined };

/** The connections of one server, so that the close can tell idle, busy and fresh apart. */
export class Connections {
  readonly #bySocket = new Map<Socket, Connection>();
  /** TLS sockets still in their handshake: not HTTP yet, but they hold the server open. */
  readonly #handshaking = new Set<Socket>();
  readonly #servedBy: ServedBy;
  readonly #gone: (connection: Connection) => void;
  #accepted = 0;

  /**
   * @param gone called for a connection whose socket closed with responses that Node never
   * closes (Node 20 leaves a pipelined response queued behind another one open).
   */
  constructor(servedBy: ServedBy, gone: (connection: Connection) => void) {
    this.#servedBy = servedBy;
    this.#gone = gone;
  }

  get size(): number {
    return this.#bySocket.size;
  }

  get(socket: Socket): Connection | undefined {
    return (socket as TaggedSocket)[kConnection];
  }

  #delete(socket: Socket): boolean {
    (socket as TaggedSocket)[kConnection] = undefined;
    return this.#bySocket.delete(socket);
  }

  add(socket: Socket): Connection {
    const connection: Connection = {
      socket,
      watched: false,
      active: 0,
      counted: 0,
      startedAt: 0,
      method: undefined,
      url: undefined,
      served: 0,
      upgraded: false,
      response: undefined,
      lastActiveAt: 0,
      finSent: false,
      closed: false,
    };
    this.#bySocket.set(socket, connection);
    (socket as TaggedSocket)[kConnection] = connection;
    this.#accepted++;
    rememberSocket(socket, this.#servedBy);
    socket.once('close', () => {
      connection.closed = true;
      if (this.forget(connection)) return;
      // Node closes the responses of a socket that closed under them right after it, and their
      // end still needs the connection (its requests in flight are counted on it). What is left
      // a turn later, Node will never close.
      setImmediate(() => {
        if (this.get(socket) !== connection) return;
        this.#gone(connection);
        this.#delete(socket);
      });
    });
    return connection;
  }

  /** Takes a closed connection out of the table once it has no response left; true if it did. */
  forget(connection: Connection): boolean {
    if (!connection.closed || connection.active > 0) return false;
    return this.#delete(connection.socket);
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

  /** The connections, for the list of requests in flight. */
  values(): IterableIterator<Connection> {
    return this.#bySocket.values();
  }

  /** Counts by kind, for the log line of the close. */
  counts(): { busy: number; idle: number; fresh: number; upgraded: number; accepted: number } {
    const counts = { busy: 0, idle: 0, fresh: 0, upgraded: 0, accepted: this.#accepted };
    for (const c of this.#bySocket.values()) {
      if (c.upgraded) counts.upgraded++;
      else if (c.active > 0) counts.busy++;
      else if (c.served > 0) counts.idle++;
      else counts.fresh++;
    }
    return counts;
  }

  /**
   * Closes a connection without a reset: sends a FIN and keeps reading until the peer closes
   * its side (the socket then goes by itself), destroying it after {@link LINGER_MS} at most.
   * Destroying a socket with unread bytes (a request already on its way) would send an RST,
   * which a load balancer reports as a failed request (nginx's 502 on a POST).
   */
  finish(connection: Connection): void {
    if (connection.finSent || connection.socket.destroyed) return;
    connection.finSent = true;
    const { socket } = connection;
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  /**
   * Closes a connection once it has nothing to do: a busy one closes after its response (which
   * says `Connection: close`), an idle one gets a FIN once it has been idle {@link QUIET_MS}
   * (`quietMs`), a connection that has sent no request yet after `graceMs`. A request that
   * arrives meanwhile is answered, with `Connection: close`.
   */
  closeWhenQuiet(connection: Connection, graceMs: number, quietMs = QUIET_MS): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = (): void => {
      timer = undefined;
      if (connection.upgraded || connection.finSent || connection.socket.destroyed) return;
      // Busy: the response carries `Connection: close`, Node closes after it.
      if (connection.active > 0) return;
      const waitMs = connection.served === 0 ? graceMs : quietMs;
      const leftMs = connection.lastActiveAt + waitMs - Date.now();
      if (leftMs > 0) {
        timer = setTimeout(check, leftMs);
        timer.unref();
        return;
      }
      this.finish(connection);
    };
    connection.socket.once('close', () => clearTimeout(timer));
    // A fresh connection's grace starts now (the server is closing), not when it was accepted.
    if (connection.served === 0) connection.lastActiveAt = Date.now();
    check();
  }

  /** Counts every connection as active at `now` (the drain starts keeping the time). */
  stampAll(now: number): void {
    for (const c of this.#bySocket.values()) c.lastActiveAt = now;
  }

  /** Applies {@link closeWhenQuiet} to every HTTP connection. */
  closeAllWhenQuiet(graceMs: number): void {
    for (const c of this.#bySocket.values()) this.closeWhenQuiet(c, graceMs);
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
