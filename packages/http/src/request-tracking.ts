import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TaskHandle } from '@handover/core';
import { HandoverHttpError } from './errors.js';

// Module-level so that the probe and drain endpoints, wherever they are mounted, can find the
// request tracking of the attached server the request came through. The handle rides on the
// request under a symbol: a WeakMap entry per request costs the garbage collector more.
const kHandle = Symbol('handover.handle');
const closingSignals = new WeakMap<Socket, AbortSignal>();

type Tracked = IncomingMessage & { [kHandle]?: TaskHandle | undefined };

/** Remembers the in-flight handle of a request. */
export function rememberHandle(req: IncomingMessage, handle: TaskHandle): void {
  (req as Tracked)[kHandle] = handle;
}

/**
 * Stops counting `req` as in-flight work (a probe, or the drain endpoint that would otherwise
 * wait for itself). Its connection still closes gracefully.
 */
export function releaseRequest(req: IncomingMessage): void {
  const handle = (req as Tracked)[kHandle];
  if (handle === undefined) return;
  (req as Tracked)[kHandle] = undefined;
  handle.done();
}

/** Links a connection to the closing signal of the server that accepted it. */
export function rememberSocket(socket: Socket, signal: AbortSignal): void {
  closingSignals.set(socket, signal);
}

/** The closing signal of the attached server `req` came through, if any. */
export function findClosingSignal(req: IncomingMessage): AbortSignal | undefined {
  return closingSignals.get(req.socket);
}

/**
 * An AbortSignal that fires when the server that received `req` starts closing (after the
 * drain delay), with a `HANDOVER_E_SERVER_CLOSING` error as its reason. End long responses
 * (SSE, long polling) and close upgraded connections (WebSocket) when it fires; what is still
 * open at the drain deadline is destroyed.
 *
 * Works for plain requests and for the request of an `upgrade` event.
 *
 * @throws `HANDOVER_E_NOT_ATTACHED` when the request's server was not passed to `attachServer()`
 * (or an adapter's attach).
 *
 * @example
 * ```ts
 * closingSignal(req).addEventListener('abort', () => res.end('event: bye\ndata: {}\n\n'));
 * ```
 */
export function closingSignal(req: IncomingMessage): AbortSignal {
  const signal = findClosingSignal(req);
  if (signal === undefined) {
    throw new HandoverHttpError(
      'HANDOVER_E_NOT_ATTACHED',
      'this request came through a server that is not attached: call attachServer(worker, server) first',
    );
  }
  return signal;
}
