import type { Worker } from '@handover/core';
import { createProbeHandler, type EndpointOptions } from '@handover/http';
import type { RequestHandler } from 'express';

/**
 * Express middleware serving the probes (`/livez`, `/readyz`, `/startupz`, `/healthz`) and,
 * when `options.drain` is set, the preStop drain endpoint. Other requests go to `next()`.
 * Mount it before your routes (a catch-all route would shadow the probes). Request tracking
 * and the graceful close come from {@link attachServer}, at the server level, so they also
 * cover requests that never reach a route.
 *
 * @throws `HANDOVER_E_INVALID_OPTION` for a bad option.
 *
 * @example
 * ```ts
 * app.use(handoverMiddleware(worker));
 * ```
 */
export function handoverMiddleware(worker: Worker, options?: EndpointOptions): RequestHandler {
  const probes = createProbeHandler(worker, options);
  return (req, res, next) => {
    if (!probes(req, res)) next();
  };
}
