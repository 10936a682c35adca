import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { PortContext, TaskHandle } from '@handover/core';
import { pathOf } from './answer.js';
import { type Connection, Connections } from './connections.js';
import { releaseRequest, rememberHandle } from './request-tracking.js';

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
 */
export class Traffic {
  readonly connections: Connections;
  readonly #options: TrafficOptions;
  #context: Pick<PortContext, 'track'> | undefined;
  #draining = false;
  #closing = false;
  /** Whether `lastActiveAt` is kept (from the start of the drain on). */
  #stamping = false;
  #arrivals = 0;

  constructor(closing: AbortSignal, options: TrafficOptions) {
    this.connections = new Connections(closing);
    this.#options = options;
  }

  /** Listens to `server`; its requests count as the worker's in-flight work. */
  install(server: Server, context: Pick<PortContext, 'track'>): void {
    this.#context = context;
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
    // First, so that a response written synchronously by the app already sees our headers.
    server.prependListener('request', this.#onRequest);
    this.#watchUpgrades(server);
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

  /** From now on each connection's last activity is timed; until now, now stands for it. */
  #startStamping(): void {
    if (this.#stamping) return;
    this.#stamping = true;
    this.connections.stampAll(Date.now());
  }

  // The hot path: one call per request, so no closure, no string building, no WeakMap.
  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    const connection = this.connections.get(socket) ?? this.#onConnection(socket);
    connection.active++;
    connection.served++;
    connection.response = res;
    if (this.#closing || (this.#draining && !this.#options.keepAliveWhileDraining)) {
      res.setHeader('connection', 'close');
    }
    let handle: TaskHandle | undefined;
    try {
      handle = this.#context?.track({ name: taskName(req.method), key: pathOf(req.url) });
    } catch {
      // The worker has finished draining: the request is served but no longer counted.
    }
    if (handle !== undefined) rememberHandle(req, handle);
    res.on('close', this.#onResponseClose);
  };

  /** Bound once; `this` is the response (`close` fires once, so `on` is enough). */
  readonly #onResponseClose = ((traffic: Traffic) =>
    function onResponseClose(this: ServerResponse): void {
      traffic.#responseDone(this);
    })(this);

  #responseDone(res: ServerResponse): void {
    const { req } = res;
    releaseRequest(req);
    const connection = this.connections.get(req.socket);
    if (connection === undefined) return;
    connection.active--;
    if (this.#stamping) connection.lastActiveAt = Date.now();
    if (connection.response === res) connection.response = undefined;
    // A response that said `Connection: close` is followed by Node's own close; one whose
    // headers went out before the close began said keep-alive: the peer may reuse the
    // connection, so it is closed like an idle one, not under a request on its way.
    if (this.#closing && connection.active === 0 && !connection.upgraded) {
      this.connections.closeWhenQuiet(connection, this.#options.newConnectionGraceMs);
    }
  }

  #onConnection(socket: Socket): Connection {
    const connection = this.connections.add(socket);
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
