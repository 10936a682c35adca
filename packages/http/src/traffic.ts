import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { PortContext, TaskInfo, WorkCounter, WorkTable } from '@handover/core';
import { pathOf } from './answer.js';
import { type Connection, Connections } from './connections.js';
import type { ServedBy } from './request-tracking.js';

/**
 * Node's own record of the response it is writing on a socket: set when the response is given
 * the socket, cleared once the response has finished (not when the socket closes under it: the
 * response is then destroyed, which `writing()` checks). A pipelined request's response waits
 * its turn, so while an earlier one is being written this is that earlier one. An app that
 * takes the socket over with `res.detachSocket()` clears it early: its request then stops
 * counting (unless the connection is watched).
 */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * The response being written on `socket`, if any (one destroyed under its socket is not). A
 * runtime that does not keep the record makes every request look pipelined: each connection
 * is then watched (listened to), which is correct, only slower.
 */
function writing(socket: Socket): ServerResponse | undefined {
  const res = (socket as HttpSocket)._httpMessage;
  return res === null || res === undefined || res.destroyed ? undefined : res;
}

const taskNames = new Map<string | undefined, string>();

/** `http:GET`, without building a string per request. */
function taskName(method: string | undefined): string {
  let name = taskNames.get(method);
  if (name === undefined) {
    name = `http:${method}`;
    // Bounded: a client can send any method token.
    if (taskNames.size < 64) taskNames.set(method, name);
  }
  return name;
}

/** What {@link Traffic} needs of the server options. */
export interface TrafficOptions {
  readonly keepAliveWhileDraining: boolean;
  readonly newConnectionGraceMs: number;
}

/** What {@link Traffic.startDraining} needs to know of the drain. */
export interface DrainTiming {
  /** The worker's drain delay: 0 means the server closes right after the drain starts. */
  readonly drainDelayMs: number;
}

/**
 * The requests and connections of one attached server: counts each request as in-flight work,
 * answers `Connection: close` once draining, and closes each connection as soon as it has
 * nothing left to do once closing.
 *
 * Requests in flight are counted on their connections (which the close needs anyway), not with
 * a task handle each: the worker asks this table how many there are, and which, when it needs
 * to know (on Fastify's hello-world a handle per request cost ~1,300 instructions a request,
 * 2.5% of the whole). Until the worker watches the table (a drain waits for the last request,
 * or task metrics time each) or the drain begins, no response is listened to: a connection
 * carries one request at a time, and it has ended once Node has finished writing its response
 * (`writing()`), which the connection's next request, or the worker's question, finds out. The
 * response is not held meanwhile: it dies young, as without Handover. A response's `close`
 * listener cost ~730 instructions a request. A pipelined request (its connection's previous
 * response still being written) makes its connection watched.
 */
export class Traffic implements ServedBy, WorkTable {
  readonly connections: Connections;
  /** Fires when the server starts closing (see `closingSignal()`). */
  readonly closingSignal: AbortSignal;
  readonly #options: TrafficOptions;
  #work: WorkCounter | undefined;
  /** Every connection is watched (see {@link Connection.watched}): the worker asked, or the drain began. */
  #watching = false;
  /** The counted requests of watched connections, kept as they begin and end. */
  #watchedCount = 0;
  /** Requests released from the count (probes) whose response has not closed yet. */
  readonly #released = new WeakSet<IncomingMessage>();
  #releasedOpen = 0;
  #draining = false;
  #closing = false;
  /** Whether `lastActiveAt` is kept (from the start of the drain on). */
  #stamping = false;
  #arrivals = 0;

  constructor(closing: AbortSignal, options: TrafficOptions) {
    this.closingSignal = closing;
    this.connections = new Connections(this, this.#gone);
    this.#options = options;
  }

  /** Listens to `server`; its requests count as the worker's in-flight work. */
  install(server: Server, context: Pick<PortContext, 'countWork'>): void {
    this.#work = context.countWork('http', this);
    server.on('connection', () => {
      this.#arrivals++;
    });
    if (server instanceof TlsServer) {
      server.on('connection', (socket: Socket) => this.connections.addHandshaking(socket));
      server.on('secureConnection', (socket: Socket) => {
        this.connections.handshakeDone(socket);
        this.#onConnection(socket);
      });
    } else {
      server.on('connection', (socket: Socket) => this.#onConnection(socket));
    }
    this.#listenToRequests(server);
    this.#watchUpgrades(server);
  }

  /**
   * Runs {@link #onRequest} ahead of the app's handlers, so that a response the app writes at
   * once already carries our headers. A server with one `request` listener (the handler given
   * to `createServer`: Fastify's, an Express app, most apps) gets a single listener that calls
   * both: Node's `emit` calls a lone listener directly, where two cost a copy of the listener
   * array and a loop on every request (too small to tell apart from a process's own noise in
   * `fastify-instructions`, docs/benchmarks.md). The fused listener stands for the handler as a
   * `once` wrapper does: `server.listeners('request')` shows the handler, and removing the
   * handler removes it. Once it is removed (`removeListener`, `removeAllListeners`), Handover's
   * listener comes back on its own, ahead of the others, so that requests are still counted.
   */
  #listenToRequests(server: Server): void {
    const [first, ...others] = server.rawListeners('request');
    if (typeof first !== 'function' || others.length > 0 || 'listener' in first) {
      server.prependListener('request', this.#onRequest);
      return;
    }
    const handler = first as (this: Server, req: IncomingMessage, res: ServerResponse) => unknown;
    const onRequest = this.#onRequest;
    const fused = Object.assign(
      function handover(this: Server, req: IncomingMessage, res: ServerResponse): unknown {
        onRequest(req, res);
        return handler.call(this, req, res);
      },
      { listener: handler },
    );
    server.removeListener('request', handler);
    server.prependListener('request', fused);
    const onRemoved = (event: string | symbol, listener: unknown): void => {
      if (event !== 'request' || listener !== handler) return;
      if (server.rawListeners('request').includes(fused)) return;
      server.removeListener('removeListener', onRemoved);
      server.prependListener('request', this.#onRequest);
    };
    server.on('removeListener', onRemoved);
  }

  /** Connections the listener has accepted so far (TLS ones before their handshake). */
  get arrivals(): number {
    return this.#arrivals;
  }

  /**
   * The drain started: from now on responses say `Connection: close` (unless kept alive), so
   * that clients reconnect elsewhere during the drain delay. Without a drain delay the server
   * closes next: a `Connection: close` now would only make a load balancer open new connections
   * to a listener about to close (one caught in its accept queue is reset), so responses keep
   * the connection alive until the listener has closed.
   */
  startDraining(timing: DrainTiming = { drainDelayMs: 1 }): void {
    this.#startStamping();
    if (this.#draining) return;
    if (timing.drainDelayMs === 0) return;
    this.#draining = true;
    if (!this.#options.keepAliveWhileDraining) this.connections.closeAfterResponses();
  }

  /**
   * The server is closing (its listener is closed): every response says `Connection: close`,
   * and each connection closes once it has nothing to do, without a reset (see
   * {@link Connections.closeWhenQuiet}).
   */
  startClosing(): void {
    this.#startStamping();
    this.#draining = true;
    this.#closing = true;
    this.connections.closeAfterResponses();
    this.connections.closeAllWhenQuiet(this.#options.newConnectionGraceMs);
  }

  /**
   * From now on each connection's last activity is timed; until now, now stands for it. The
   * close goes by every response's end, so every connection is watched from here on.
   */
  #startStamping(): void {
    if (this.#stamping) return;
    this.#stamping = true;
    this.watch();
    this.connections.stampAll(Date.now());
  }

  /** From now on every response is listened to (see {@link WorkTable.watch}). */
  watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    for (const connection of this.connections.values()) {
      if (!connection.watched) this.#watch(connection);
    }
  }

  /** Listens to the response of an unwatched connection, if it is still open, and to every later one. */
  #watch(connection: Connection): void {
    connection.watched = true;
    const res = writing(connection.socket);
    if (res === undefined) {
      connection.response = undefined;
      connection.active = 0;
      connection.counted = 0;
      return;
    }
    connection.response = res;
    connection.active = 1;
    // Released while unwatched (a probe): its close must not count off another request.
    if (connection.counted === 0) this.#markReleased(res.req);
    this.#watchedCount += connection.counted;
    res.on('close', this.#onResponseClose);
  }

  /** How many requests are in flight now (see {@link WorkTable.count}). */
  count(): number {
    if (this.#watching) return this.#watchedCount;
    let count = 0;
    for (const connection of this.connections.values()) count += this.#inFlight(connection);
    return count;
  }

  /** A connection's counted requests in flight. */
  #inFlight(connection: Connection): number {
    if (connection.watched) return connection.counted;
    return connection.counted > 0 && writing(connection.socket) !== undefined ? 1 : 0;
  }

  // The hot path: one call per request, so no closure, no string building, no WeakMap, and
  // until the connection is watched no listener either.
  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    const connection = this.connections.get(socket) ?? this.#onConnection(socket);
    connection.served++;
    if (this.#closing || (this.#draining && !this.#options.keepAliveWhileDraining)) {
      res.setHeader('connection', 'close');
    }
    connection.method = req.method;
    connection.url = req.url;
    const work = this.#work;
    if (!connection.watched) {
      // Node gave this response the socket: the previous request has ended (always, unless
      // this one was pipelined behind it).
      if (writing(socket) === res) {
        if (work !== undefined) {
          connection.counted = 1;
          connection.startedAt = work.stamp();
        }
        return;
      }
      this.#watch(connection);
    }
    connection.active++;
    connection.response = res;
    if (work !== undefined) {
      const startedAt = work.stamp();
      if (connection.counted++ === 0) connection.startedAt = startedAt;
      this.#watchedCount++;
    }
    res.on('close', this.#onResponseClose);
  };

  /** Bound once; `this` is the response (`close` fires once, so `on` is enough). */
  readonly #onResponseClose = ((traffic: Traffic) =>
    function onResponseClose(this: ServerResponse): void {
      traffic.#responseDone(this);
    })(this);

  #responseDone(res: ServerResponse): void {
    const { req } = res;
    const connection = this.connections.get(req.socket);
    if (this.#releasedOpen > 0 && this.#released.delete(req)) this.#releasedOpen--;
    else this.#ended(connection);
    if (connection === undefined) return;
    connection.active--;
    if (connection.closed) {
      this.connections.forget(connection);
      return;
    }
    if (this.#stamping) connection.lastActiveAt = Date.now();
    if (connection.response === res) connection.response = undefined;
    // A response that said `Connection: close` is followed by Node's own close; one whose
    // headers went out before the close began said keep-alive: the peer may reuse the
    // connection, so it is closed like an idle one, not under a request on its way.
    if (this.#closing && connection.active === 0 && !connection.upgraded) {
      this.connections.closeWhenQuiet(connection, this.#options.newConnectionGraceMs);
    }
  }

  /** A counted request ended (answered, or its connection closed under it). */
  #ended(connection: Connection | undefined): void {
    // Every request gets a connection first, and each is counted once.
    if (this.#work === undefined || connection === undefined || connection.counted === 0) return;
    connection.counted--;
    this.#watchedCount--;
    this.#work.end(connection.startedAt);
  }

  /** A closed connection whose last responses Node never closed: they end now. */
  readonly #gone = (connection: Connection): void => {
    while (connection.counted > 0 && this.#work !== undefined) this.#ended(connection);
    connection.active = 0;
  };

  /** Stops counting `req` (a probe, the drain endpoint); see `releaseRequest()`. */
  release(req: IncomingMessage): void {
    const connection = this.connections.get(req.socket);
    if (this.#work === undefined || connection === undefined || connection.counted === 0) return;
    if (!connection.watched) {
      if (writing(req.socket)?.req === req) connection.counted = 0;
      return;
    }
    // Answered already (the connection has moved on to another request): nothing to release.
    if (connection.counted === 1 && connection.response?.req !== req) return;
    if (this.#released.has(req)) return;
    this.#markReleased(req);
    connection.counted--;
    this.#watchedCount--;
    this.#work.end();
  }

  /** Its response's close will not count a request off (see {@link #responseDone}). */
  #markReleased(req: IncomingMessage): void {
    this.#released.add(req);
    this.#releasedOpen++;
  }

  /**
   * The requests in flight, for the worker's list: one per counted request of each connection,
   * named after the latest request as it arrived (pipelined requests, rare, share its name and
   * its first one's start).
   */
  list(now: number): TaskInfo[] {
    const list: TaskInfo[] = [];
    for (const connection of this.connections.values()) {
      const inFlight = this.#inFlight(connection);
      for (let i = 0; i < inFlight; i++) {
        list.push({
          name: taskName(connection.method),
          key: connection.url === undefined ? undefined : pathOf(connection.url),
          status: 'running',
          ageMs: now - connection.startedAt,
        });
      }
    }
    return list;
  }

  #onConnection(socket: Socket): Connection {
    const connection = this.connections.add(socket);
    connection.watched = this.#watching;
    if (this.#stamping) connection.lastActiveAt = Date.now();
    if (this.#closing) {
      this.connections.closeWhenQuiet(connection, this.#options.newConnectionGraceMs);
    }
    return connection;
  }

  /**
   * Marks upgraded connections. Listening to `upgrade` changes how Node treats `Upgrade:`
   * requests, so we listen only once the app does.
   */
  #watchUpgrades(server: Server): void {
    let watching = false;
    const onUpgrade = (_req: IncomingMessage, socket: Socket): void => {
      const connection = this.connections.get(socket) ?? this.#onConnection(socket);
      connection.upgraded = true;
    };
    const watch = (): void => {
      if (watching) return;
      watching = true;
      server.prependListener('upgrade', onUpgrade);
    };
    if (server.listenerCount('upgrade') > 0) watch();
    server.on('newListener', (event: string | symbol) => {
      if (event === 'upgrade') watch();
    });
  }
}
