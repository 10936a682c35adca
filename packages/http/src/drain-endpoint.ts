import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Port, PortContext, Worker } from '@handover/core';
import { type HttpAnswer, jsonAnswer } from './answer.js';
import type { ResolvedDrain } from './endpoint-options.js';
import { findClosingSignal, releaseRequest } from './request-tracking.js';

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** How long the endpoint waits, after answering, for its answers to reach the socket. */
const flushMs = 1000;

/**
 * The preStop drain endpoint: starts `worker.drain('drain-endpoint')` and holds the call until
 * the drain is done, so kubelet sends SIGTERM (which the draining worker then ignores) only once
 * the work is finished.
 *
 * "Done" is the worker's teardown: in-flight work finished (or was cut off at the drain
 * deadline) and the worker deregistered. The answer never comes later than `maxWaitMs` after
 * the drain started (by default the drain deadline, `shutdownReserveMs` before the grace period
 * ends), so the call neither outlives the process nor eats the grace period. Mounted on an
 * attached server, it answers when that server starts closing: its own connection would
 * otherwise keep the server open until the deadline.
 *
 * It follows the lifecycle as an extension port: its wait counts from the stop's start
 * (`context.stop`), `teardown` releases the held calls and waits (bounded) for the answers to
 * leave.
 */
export class DrainEndpoint implements Port {
  readonly kind = 'extension' as const;
  readonly name = 'http:drain-endpoint';
  readonly #options: ResolvedDrain;
  readonly #tokenDigest: Buffer | undefined;
  readonly #waiters = new Set<() => void>();
  readonly #pending = new Set<Socket>();
  /** Set by `worker.use(this)` in the constructor. */
  #context!: PortContext;

  constructor(worker: Worker, options: ResolvedDrain) {
    this.#options = options;
    this.#tokenDigest = options.token === undefined ? undefined : sha256(options.token);
    worker.use(this);
  }

  attach(context: PortContext): void {
    this.#context = context;
  }

  /** Answers every held call and gives the answers a moment to leave. */
  teardown(): Promise<void> {
    return this.#release();
  }

  /** Teardown has begun: the worker deregistered after its work was done. */
  get #drained(): boolean {
    return this.#context.deregistered;
  }

  get path(): string {
    return this.#options.path;
  }

  answer(req: IncomingMessage): HttpAnswer | Promise<HttpAnswer> {
    releaseRequest(req);
    if (req.method !== 'GET' && req.method !== 'POST') {
      return jsonAnswer(
        405,
        { status: 'error', error: 'method not allowed' },
        { allow: 'GET, POST' },
      );
    }
    const remoteAddress = req.socket.remoteAddress;
    const log = this.#context.logger;
    if (this.#options.loopbackOnly && !isLoopback(remoteAddress)) {
      log.warn({ remoteAddress, status: 403 }, 'drain endpoint: call refused (not loopback)');
      return jsonAnswer(403, { status: 'error', error: 'loopback callers only' });
    }
    if (this.#tokenDigest !== undefined && !this.#authorized(req.headers.authorization)) {
      log.warn({ remoteAddress, status: 401 }, 'drain endpoint: call refused (bad or no token)');
      return jsonAnswer(
        401,
        { status: 'error', error: 'a bearer token is required' },
        { 'www-authenticate': 'Bearer realm="handover"' },
      );
    }
    log.info({ remoteAddress, state: this.#context.state }, 'drain endpoint: drain requested');
    void this.#context.drain('drain-endpoint');
    return this.#wait(req);
  }

  #authorized(header: string | undefined): boolean {
    const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
    if (!match?.[1] || this.#tokenDigest === undefined) return false;
    // Digests have equal lengths, so the comparison time says nothing about the token.
    return timingSafeEqual(sha256(match[1]), this.#tokenDigest);
  }

  #wait(req: IncomingMessage): Promise<HttpAnswer> {
    if (this.#drained || this.#context.state === 'stopped')
      return Promise.resolve(this.#result(true));
    const timing = this.#context.timing;
    const maxWaitMs = this.#options.maxWaitMs ?? timing.gracePeriodMs - timing.shutdownReserveMs;
    const elapsed = Date.now() - (this.#context.stop?.at ?? Date.now());
    const closing = findClosingSignal(req);
    const socket = req.socket;
    return new Promise((resolve) => {
      const finish = (drained: boolean): void => {
        clearTimeout(timer);
        closing?.removeEventListener('abort', onClosing);
        this.#waiters.delete(onDrained);
        this.#pending.add(socket);
        resolve(this.#result(drained));
      };
      const onDrained = (): void => finish(true);
      const onClosing = (): void => finish(false);
      const timer = setTimeout(onClosing, Math.max(0, maxWaitMs - elapsed));
      timer.unref();
      this.#waiters.add(onDrained);
      closing?.addEventListener('abort', onClosing, { once: true });
      void this.#context.stopped.then(onDrained);
    });
  }

  #result(drained: boolean): HttpAnswer {
    return jsonAnswer(200, {
      status: drained ? 'drained' : 'draining',
      state: this.#context.state,
      inflight: this.#context.inflight,
    });
  }

  async #release(): Promise<void> {
    for (const waiter of [...this.#waiters]) waiter();
    if (this.#pending.size === 0) return;
    // The caller writes the answer once our promise settles: let that happen first.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([...this.#pending].map((socket) => flushed(socket, flushMs)));
    this.#pending.clear();
  }
}

/** Resolves when `socket` has nothing left to write (or closed), at the latest after `ms`. */
function flushed(socket: Socket, ms: number): Promise<void> {
  if (socket.destroyed || socket.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.once('drain', done);
    socket.once('close', done);
  });
}
