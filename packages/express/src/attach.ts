import type { Server } from 'node:http';
import type { Worker } from '@handover/core';
import { type AttachServerOptions, attachServer, type HttpServerPort } from '@handover/http';

/**
 * Attaches the server `app.listen()` returned to `worker`: every request counts as in-flight
 * work, the server keeps serving during the drain delay (answering `Connection: close`), then
 * stops accepting, closes idle keep-alive connections at once and busy ones after their
 * response, and destroys what is left at the drain deadline. Call it before `worker.start()`.
 *
 * @throws `HANDOVER_E_ALREADY_ATTACHED` when the server is attached already,
 * `HANDOVER_E_INVALID_OPTION` for a bad option.
 *
 * @example
 * ```ts
 * const server = app.listen(3000);
 * attachExpress(worker, server);
 * await worker.start();
 * ```
 */
export function attachExpress(
  worker: Worker,
  server: Server,
  options?: AttachServerOptions,
): HttpServerPort {
  return attachServer(worker, server, options);
}
