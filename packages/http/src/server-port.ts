import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import {
  type DrainNotice,
  HandoverError,
  type Logger,
  type Port,
  type PortContext,
} from '@handover/core';
import { HandoverHttpError } from './errors.js';
import type { ResolvedServerOptions } from './server-options.js';
import { Traffic } from './traffic.js';

/** A `node:http` or `node:https` server attached to a worker; see {@link attachServer}. */
export interface HttpServerPort extends Port {
  readonly kind: 'server';
  url(): string | undefined;
  /** The attached server. */
  readonly server: Server;
  /** True once the server has started closing. */
  readonly closing: boolean;
  /** Fires when the server starts closing; see {@link closingSignal} for one request. */
  readonly closingSignal: AbortSignal;
  /**
   * Starts closing at once: `Connection: close` on every response, connections close after
   * their response, {@link closingSignal} fires. For frameworks that close the server
   * themselves (the Fastify plugin calls it when `fastify.close()` is called directly); the
   * worker does this itself after the drain delay.
   */
  beginClose(): void;
}

const attached = new WeakSet<Server>();

/** Checks that a server is not attached yet; attachServer calls it before `worker.use()`. */
export function expectNotAttached(server: Server): void {
  if (attached.has(server)) {
    throw new HandoverHttpError(
      'HANDOVER_E_ALREADY_ATTACHED',
      'this server is already attached to a worker: attach each server once',
    );
  }
}

export class HttpServerPortImpl implements HttpServerPort {
  readonly kind = 'server' as const;
  readonly server: Server;
  readonly #options: ResolvedServerOptions;
  readonly #closing = new AbortController();
  readonly #traffic: Traffic;
  #context: PortContext | undefined;
  #log: Logger | undefined;
  #listeningPort: number | undefined;
  #serverClosed = false;
  #destroyed = 0;
  #closed: Promise<void> | undefined;

  constructor(server: Server, options: ResolvedServerOptions) {
    this.server = server;
    this.#options = options;
    this.#traffic = new Traffic(this.#closing.signal, options);
  }

  get name(): string {
    const port = this.#port();
    return this.#options.name ?? (port === undefined ? 'http' : `http:${port}`);
  }

  get closing(): boolean {
    return this.#closing.signal.aborted;
  }

  get closingSignal(): AbortSignal {
    return this.#closing.signal;
  }

  attach(context: PortContext): void {
    expectNotAttached(this.server);
    attached.add(this.server);
    this.#context = context;
    this.#log = context.logger;
    this.#traffic.install(this.server, context);
    this.server.once('close', () => {
      this.#serverClosed = true;
    });
  }

  /** The drain began: responses say `Connection: close` from now on (unless kept alive). */
  draining(_notice: DrainNotice): void {
    this.#traffic.startDraining({ drainDelayMs: this.#context?.timing.drainDelayMs ?? 1 });
  }

  url(): string | undefined {
    if (this.#options.url !== undefined) return this.#options.url;
    const port = this.#port();
    const identity = this.#context?.identity;
    if (port === undefined || identity === undefined) return undefined;
    const host = identity.addresses[0] ?? identity.hostname;
    const protocol = this.server instanceof TlsServer ? 'https' : 'http';
    return `${protocol}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  beginClose(): void {
    if (this.closing) return;
    this.#closing.abort(
      new HandoverHttpError(
        'HANDOVER_E_SERVER_CLOSING',
        'the server is closing: the worker is draining',
      ),
    );
    // Closed by its app (`fastify.close()`) rather than by a drain: the connections' counts of
    // requests in flight are kept only once the traffic is watched.
    this.#traffic.watch();
    this.#log?.info({ server: this.name, ...this.#traffic.connections.counts() }, 'server closing');
    this.#traffic.startClosing();
    const { onClosing } = this.#options;
    if (onClosing === undefined) return;
    // Bounded like every adapter step: a hook that hangs is logged, and what it should have
    // closed is destroyed at the drain deadline anyway.
    const timeoutMs = this.#context?.timing.hookTimeoutMs ?? 5000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new HandoverError(
              'HANDOVER_E_HOOK_TIMEOUT',
              `onClosing did not finish within hookTimeoutMs (${timeoutMs} ms)`,
            ),
          ),
        timeoutMs,
      );
      timer.unref();
    });
    Promise.race([Promise.resolve().then(onClosing), timedOut])
      .catch((error: unknown) => this.#hookFailed('onClosing', error))
      .finally(() => clearTimeout(timer));
  }

  /**
   * After the drain delay: stop accepting, close idle connections at once and busy ones after
   * their response; resolves once no connection is left. `deadline` (the drain deadline)
   * destroys what is left.
   */
  stopIntake(deadline: AbortSignal): Promise<void> {
    this.#closed ??= this.#close(deadline);
    return this.#closed;
  }

  /** The user's teardown (`onTeardown`: the Fastify plugin's `fastify.close()`). */
  async teardown(): Promise<void> {
    await this.#options.onTeardown?.();
  }

  async #close(deadline: AbortSignal): Promise<void> {
    const started = Date.now();
    const onDeadline = (): void => this.#destroyAll();
    if (deadline.aborted) onDeadline();
    else deadline.addEventListener('abort', onDeadline, { once: true });
    try {
      // Accept what the kernel has already completed before closing the listener, which
      // would reset those connections with the request a balancer already sent on them; and
      // while connections keep arriving (a balancer that found this instance busy during its
      // stop opens new ones, in a burst), poll again, until a turn accepts none.
      for (let turn = 0; turn < ACCEPT_TURNS; turn++) {
        const arrivals = this.#traffic.arrivals;
        await afterNextPoll();
        if (this.#traffic.arrivals === arrivals) break;
      }
      // The listener first, then `Connection: close`: a client told to close before the
      // listener is closed reconnects to it, and may land in its accept queue as it closes.
      const closed = this.#closeServer();
      this.beginClose();
      await closed;
    } finally {
      deadline.removeEventListener('abort', onDeadline);
    }
    this.#log?.info(
      { server: this.name, destroyedConnections: this.#destroyed, closeMs: Date.now() - started },
      'server closed',
    );
  }

  /**
   * Stops accepting; resolves once every connection is gone. The listener only: `http.Server`'s
   * own `close()` also destroys the connections it thinks idle, among them one whose next
   * request is already in the kernel's buffer (a reset); {@link Traffic} closes them instead.
   */
  #closeServer(): Promise<void> {
    // A server that already emitted `close` (closed by the framework) would never call back.
    if (this.#serverClosed) return Promise.resolve();
    // ERR_SERVER_NOT_RUNNING (never listened) is fine: there is nothing to close.
    const closed = new Promise<void>((resolve) =>
      NetServer.prototype.close.call(this.server, () => resolve()),
    );
    this.#log?.info({ server: this.name }, 'server stopped accepting');
    return closed;
  }

  #destroyAll(): void {
    const count = this.#traffic.connections.destroyAll();
    // Connections accepted before the server was attached are not ours to count, but must go.
    this.server.closeAllConnections?.();
    this.#destroyed += count;
    if (count > 0) {
      this.#log?.warn(
        { server: this.name, destroyedConnections: count },
        'connections destroyed at the drain deadline',
      );
    }
  }

  /** The listening TCP port; kept once known, as a closed server has no address left. */
  #port(): number | undefined {
    const address = this.server.address();
    if (typeof address === 'object' && address !== null) this.#listeningPort = address.port;
    return this.#listeningPort;
  }

  #hookFailed(hook: string, error: unknown): void {
    this.#log?.error({ server: this.name, hook, err: error }, 'server hook failed');
  }
}

/**
 * At most this many turns of the event loop, each accepting what arrived during the one before,
 * between the start of the close and the listener's close (a few ms in all: a balancer that opens
 * a connection per request would otherwise keep the listener open forever).
 */
const ACCEPT_TURNS = 8;

/**
 * Resolves after the event loop's next poll phase, where the listener accepts the connections
 * waiting in its queue. One `setImmediate` is not enough: called from a poll-phase callback (a
 * signal, a socket's data) it runs in the same turn's check phase, after no new poll, so what
 * queued while the stop's own work ran (2.8 ms median from SIGTERM, up to 15 ms on a loaded
 * machine) would be reset. A balancer opens such connections when its pooled ones to this
 * instance are all busy: captured behind HAProxy, 3 connections opened 12, 11 and 4 ms before
 * the close were reset in the queue.
 */
function afterNextPoll(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
