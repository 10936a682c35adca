import { createServer, type Server } from 'node:http';
import type { Worker } from '@handover/core';
import { jsonAnswer, writeAnswer } from './answer.js';
import type { EndpointOptions } from './endpoint-options.js';
import { createProbeHandler } from './endpoints.js';
import { listen } from './listen.js';
import { expectOption, isRecord, optionalInteger } from './validate.js';

/** Options of {@link startProbeServer}: where it listens, plus the endpoint options. */
export interface ProbeServerOptions extends EndpointOptions {
  /** Port to listen on; 0 lets the system pick one (read it from {@link ProbeServer.port}). */
  readonly port: number;
  /** Address to listen on. @default all interfaces (`::`, or `0.0.0.0` without IPv6) */
  readonly host?: string;
}

/** A running probe server. */
export interface ProbeServer {
  /** The port it listens on. */
  readonly port: number;
  /** The underlying server. */
  readonly server: Server;
  /** Closes it now; it closes by itself once the worker has stopped. */
  close(): Promise<void>;
}

/**
 * Starts a server on its own port that serves only the probes (and the drain endpoint, when
 * on). It is not attached to the worker: it keeps answering while the worker drains (kubelet
 * probes it then) and closes once the worker has stopped. Start it before `worker.start()` so
 * that `/startupz` and `/readyz` answer 503 during warm-up.
 *
 * @throws `HANDOVER_E_INVALID_OPTION` for a bad option, `HANDOVER_E_LISTEN` when
 * it cannot listen (port in use, address not available).
 *
 * @example
 * ```ts
 * await startProbeServer(worker, { port: 9000, drain: { token: process.env.DRAIN_TOKEN } });
 * ```
 */
export async function startProbeServer(
  worker: Worker,
  options: ProbeServerOptions,
): Promise<ProbeServer> {
  expectOption(isRecord(options), 'options', 'an object with a `port`', options);
  const port = optionalInteger('port', options.port, 0, 65_535);
  expectOption(port !== undefined, 'port', 'an integer from 0 to 65535', options.port);
  const { host } = options;
  expectOption(
    host === undefined || (typeof host === 'string' && host.length > 0),
    'host',
    'a non-empty string',
    host,
  );
  const { port: _port, host: _host, ...endpointOptions } = options;
  const probes = createProbeHandler(worker, endpointOptions);
  const notFound = jsonAnswer(404, { status: 'error', error: 'not found' });
  const server = createServer((req, res) => {
    if (!probes(req, res)) writeAnswer(req, res, notFound);
  });
  await listen(server, port, host, 'the probe server');
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  void worker.stopped.then(close);
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    server,
    close,
  };
}
