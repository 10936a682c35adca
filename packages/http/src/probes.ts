import type { Worker } from '@handover/core';
import { type HttpAnswer, jsonAnswer } from './answer.js';
import type { ProbeName } from './endpoint-options.js';

/** Whether a probe passes for the worker as it is now. */
export function probePasses(worker: Worker, probe: ProbeName): boolean {
  switch (probe) {
    case 'livez':
      return worker.state !== 'failed';
    case 'readyz':
      return worker.ready;
    case 'startupz':
      return worker.hasBeenReady;
    case 'healthz':
      // Docker (Swarm) replaces an unhealthy container: draining must stay healthy, and so must
      // a ready worker whose broker is away (a restart would not bring the broker back).
      return worker.hasBeenReady && worker.state !== 'failed';
  }
}

/**
 * Answers a probe: 200 or 503 with a JSON body naming the state, never 500. `reason` is the
 * last readiness change the caller saw (e.g. `state:draining`, `nats: disconnected`).
 */
export function probeAnswer(
  worker: Worker,
  probe: ProbeName,
  method: string | undefined,
  reason: string | undefined,
): HttpAnswer {
  if (method !== 'GET' && method !== 'HEAD') {
    return jsonAnswer(
      405,
      { probe, status: 'error', error: 'method not allowed' },
      { allow: 'GET, HEAD' },
    );
  }
  const pass = probePasses(worker, probe);
  const waitingFor = worker.waitingFor();
  return jsonAnswer(pass ? 200 : 503, {
    probe,
    status: pass ? 'pass' : 'fail',
    state: worker.state,
    ready: worker.ready,
    hasBeenReady: worker.hasBeenReady,
    ...(reason === undefined ? {} : { reason }),
    // What the worker is waiting for (a warm-up hook, a broker it cannot reach yet).
    ...(Object.keys(waitingFor).length === 0 ? {} : { waitingFor }),
  });
}
