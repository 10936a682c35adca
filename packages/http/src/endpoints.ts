import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Worker } from '@handover/core';
import { type HttpAnswer, jsonAnswer, pathOf, textAnswer, writeAnswer } from './answer.js';
import { DrainEndpoint } from './drain-endpoint.js';
import {
  type EndpointOptions,
  type MetricsSource,
  resolveEndpointOptions,
} from './endpoint-options.js';
import { probeAnswer } from './probes.js';
import { releaseRequest } from './request-tracking.js';
import { expectWorker } from './validate.js';

/**
 * The probe and drain endpoints without a server: for frameworks that register routes (the
 * Fastify plugin) or servers with their own routing.
 */
export interface Endpoints {
  /** Every path served: the probes that are on, then the drain endpoint if it is on. */
  readonly paths: readonly string[];
  /**
   * Answers `req` when its path (query string ignored) is one of {@link Endpoints.paths}, else
   * returns `undefined`. A matched request stops counting as in-flight work. The drain
   * endpoint and the metrics answer asynchronously.
   */
  answer(req: IncomingMessage): HttpAnswer | Promise<HttpAnswer> | undefined;
}

/**
 * A Node request handler for the probes (and the drain endpoint, when on): it answers and
 * returns `true` for one of its paths, and returns `false` without touching `res` otherwise.
 */
export type ProbeHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Creates the probe endpoints (`/livez`, `/readyz`, `/startupz`, `/healthz`) and, when
 * `options.drain` is set, the preStop drain endpoint, for `worker`. Create them before
 * `worker.start()` (the drain endpoint adds a shutdown hook).
 *
 * @throws `HANDOVER_E_INVALID_OPTION` for a bad option (an unprotected drain endpoint included).
 */
export function createEndpoints(worker: Worker, options?: EndpointOptions): Endpoints {
  expectWorker('worker', worker);
  const resolved = resolveEndpointOptions(options);
  const drain = resolved.drain ? new DrainEndpoint(worker, resolved.drain) : undefined;
  let reason: string | undefined;
  worker.on('readiness', (change) => {
    reason = change.reason;
  });
  const { metrics } = resolved;
  const paths = [
    ...resolved.probes.keys(),
    ...(drain ? [drain.path] : []),
    ...(metrics ? [metrics.path] : []),
  ];
  return {
    paths,
    answer(req) {
      const path = pathOf(req.url);
      const probe = resolved.probes.get(path);
      if (probe !== undefined) {
        releaseRequest(req);
        return probeAnswer(worker, probe, req.method, reason);
      }
      if (drain !== undefined && path === drain.path) return drain.answer(req);
      if (metrics !== undefined && path === metrics.path) {
        releaseRequest(req);
        return metricsAnswer(metrics.source, req.method);
      }
      return undefined;
    },
  };
}

/**
 * Creates a {@link ProbeHandler} to mount in any `node:http` server.
 *
 * @example
 * ```ts
 * const probes = createProbeHandler(worker);
 * const server = createServer((req, res) => {
 *   if (probes(req, res)) return;
 *   app(req, res);
 * });
 * ```
 */
export function createProbeHandler(worker: Worker, options?: EndpointOptions): ProbeHandler {
  const endpoints = createEndpoints(worker, options);
  return (req, res) => {
    const answer = endpoints.answer(req);
    if (answer === undefined) return false;
    if (answer instanceof Promise) {
      answer.then(
        (value) => writeAnswer(req, res, value),
        (error: unknown) => {
          worker.logger.error({ err: error, path: pathOf(req.url) }, 'endpoint failed');
          writeAnswer(req, res, jsonAnswer(500, { status: 'error', error: 'internal error' }));
        },
      );
    } else {
      writeAnswer(req, res, answer);
    }
    return true;
  };
}

/** The metrics, rendered now; GET and HEAD only. */
async function metricsAnswer(
  source: MetricsSource,
  method: string | undefined,
): Promise<HttpAnswer> {
  if (method !== 'GET' && method !== 'HEAD') {
    return jsonAnswer(
      405,
      { status: 'error', error: 'method not allowed' },
      { allow: 'GET, HEAD' },
    );
  }
  return textAnswer(200, await source.render(), source.contentType);
}
