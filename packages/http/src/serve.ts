import { createServer, type RequestListener } from 'node:http';
import { HandoverOptionError, type Worker } from '@handover/core';
import { attachServer } from './attach.js';
import type { EndpointOptions } from './endpoint-options.js';
import { createProbeHandler } from './endpoints.js';
import { listen } from './listen.js';
import type { AttachServerOptions } from './server-options.js';
import type { HttpServerPort } from './server-port.js';
import { expectOption, expectWorker, isRecord, optionalInteger } from './validate.js';

/** Options of {@link serve}: where to listen, the endpoint options and the server options. */
export interface ServeOptions extends EndpointOptions, Omit<AttachServerOptions, 'onTeardown'> {
  /**
   * Port to listen on; 0 lets the system pick one (read it from `server.address()`).
   * @default env `PORT`, else 3000
   */
  readonly port?: number | undefined;
  /** Address to listen on. @default all interfaces */
  readonly host?: string | undefined;
  /**
   * Serve the probes (and the drain endpoint, when `drain` is set) ahead of the app. Set to
   * `false` when a probe server on its own port serves them.
   * @default true
   */
  readonly probes?: boolean | undefined;
}

/** The `port` option, else `PORT`, else 3000; a bad `PORT` is `HANDOVER_E_INVALID_ENV`. */
export function portFrom(
  option: unknown,
  env: Readonly<Record<string, string | undefined>>,
): number {
  const port = optionalInteger('port', option, 0, 65_535);
  if (port !== undefined) return port;
  const raw = env.PORT?.trim();
  if (raw === undefined || raw === '') return 3000;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value > 65_535) {
    throw new HandoverOptionError(
      'HANDOVER_E_INVALID_ENV',
      `Expected environment variable PORT to be an integer from 0 to 65535, got ${JSON.stringify(env.PORT)}`,
    );
  }
  return value;
}

/**
 * Serves a request listener (an Express app, `app.callback()` of Koa, any `node:http`
 * handler) as part of `worker`, in one call: the probes answered ahead of the app (a catch-all
 * route cannot shadow them), every request counted as in-flight work, and the graceful close
 * of {@link attachServer}. Resolves once listening. Call it before `worker.start()`: the probes
 * answer 503 while the worker warms up.
 *
 * Use `handoverMiddleware` and `attachServer` separately to mount the probes elsewhere.
 *
 * @throws `HANDOVER_E_INVALID_OPTION` for a bad option, `HANDOVER_E_INVALID_ENV` for a bad
 * `PORT`, `HANDOVER_E_LISTEN`
 * (as a rejection) when it cannot listen.
 *
 * @example
 * ```ts
 * const app = express();
 * app.get('/orders/:id', getOrder);
 * await serve(worker, app, { port: 3000 });
 * await worker.start();
 * ```
 */
export async function serve(
  worker: Worker,
  listener: RequestListener,
  options: ServeOptions = {},
): Promise<HttpServerPort> {
  expectWorker('worker', worker);
  expectOption(typeof listener === 'function', 'listener', 'a request listener (an app)', listener);
  expectOption(isRecord(options as unknown), 'options', 'an object', options);
  const { port, host, probes, paths, drain, metrics, metricsPath, ...serverOptions } = options;
  const listenPort = portFrom(port, process.env);
  expectOption(
    host === undefined || (typeof host === 'string' && host.length > 0),
    'host',
    'a non-empty string',
    host,
  );
  const endpoints =
    probes === false
      ? undefined
      : createProbeHandler(worker, { paths, drain, metrics, metricsPath });
  const server = createServer(
    endpoints === undefined
      ? listener
      : (req, res) => {
          if (!endpoints(req, res)) listener(req, res);
        },
  );
  const attached = attachServer(worker, server, serverOptions);
  await listen(server, listenPort, host, 'the server');
  return attached;
}
