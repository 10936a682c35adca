import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { Worker } from '@handover/core';
import { type AttachServerOptions, resolveServerOptions } from './server-options.js';
import { expectNotAttached, type HttpServerPort, HttpServerPortImpl } from './server-port.js';
import { expectOption, expectWorker } from './validate.js';

/**
 * Attaches a `node:http` or `node:https` server to `worker` (it calls `worker.use()`, so call
 * it before `worker.start()`; the server may listen before or after). From then on:
 *
 * - every request counts as in-flight work until its response is finished or closed
 *   (probe and drain endpoint requests excepted), so the drain waits for it;
 * - from the start of the drain, responses carry `Connection: close` (see
 *   `keepAliveWhileDraining`), while requests on new and reused connections are still served
 *   during the drain delay;
 * - after the delay the server stops accepting (new connections are refused), busy keep-alive
 *   connections close right after their response and idle ones with a FIN once idle 300 ms,
 *   reading until the peer closes (1 s at most): no reset;
 * - at the drain deadline what is left (streams, upgraded sockets) is destroyed and reported.
 *
 * The worker advertises {@link HttpServerPort.url} as its registry entry's `http`.
 *
 * @throws `HANDOVER_E_INVALID_OPTION` for a bad argument, `HANDOVER_E_ALREADY_ATTACHED` when
 * the server is attached already, `HANDOVER_E_INVALID_STATE` after `worker.start()`.
 *
 * @example
 * ```ts
 * const server = createServer(handler).listen(3000);
 * attachServer(worker, server);
 * await worker.start();
 * ```
 */
export function attachServer(
  worker: Worker,
  server: Server,
  options?: AttachServerOptions,
): HttpServerPort {
  expectWorker('worker', worker);
  expectOption(server instanceof NetServer, 'server', 'a node:http or node:https server', server);
  const resolved = resolveServerOptions(options);
  expectNotAttached(server);
  const port = new HttpServerPortImpl(server, resolved);
  worker.use(port);
  return port;
}
