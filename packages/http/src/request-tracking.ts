import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { HandoverHttpError } from './errors.js';

/** What the attached server that accepted a connection does for its requests. */
export interface ServedBy {
  /** Fires when that server starts closing. */
  readonly closingSignal: AbortSignal;
  /** Stops counting `req` as in-flight work. */
  release(req: IncomingMessage): void;
}

// Module-level so that the probe and drain endpoints, wherever they are mounted, can find the
// attached server a request came through. One entry per connection, none per request.
const servedBy = new WeakMap<Socket, ServedBy>();

/**
 * Stops counting `req` as in-flight work (a probe, or the drain endpoint that would otherwise
 * wait for itself). Its connection still closes gracefully. Call it while the request is being
 * answered; a request of a server that is not attached is ignored.
 */
export function releaseRequest(req: IncomingMessage): void {
  servedBy.get(req.socket)?.release(req);
}

/** Links a connection to the attached server that accepted it. */
export function rememberSocket(socket: Socket, server: ServedBy): void {
  servedBy.set(socket, server);
}

/** The closing signal of the attached server `req` came through, if any. */
export function findClosingSignal(req: IncomingMessage): AbortSignal | undefined {
  return servedBy.get(req.socket)?.closingSignal;
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
