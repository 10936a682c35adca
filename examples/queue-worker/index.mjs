// A queue worker: takes JSON tasks on handover.<service>.tasks (request/reply) and/or from a
// JetStream stream, and echoes them with its id and version, after WARMUP_MS of simulated
// warm-up and TASK_MS of simulated work per task. Configured by environment; see README.md.
import { createWorker } from '@handover/core';
import { startProbeServer } from '@handover/http';
import { natsBroker } from '@handover/nats';

const env = process.env;
const ms = (name, fallback) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number of ms, got ${env[name]}`);
  return value;
};
const warmupMs = ms('WARMUP_MS', 0);
const taskMs = ms('TASK_MS', 0);
const intake = env.HANDOVER_INTAKE ?? 'request';
if (!['request', 'jetstream', 'both'].includes(intake)) {
  throw new Error(`HANDOVER_INTAKE must be request, jetstream or both, got ${intake}`);
}
const service = env.HANDOVER_SERVICE ?? 'demo';

/** Resolves after `duration`, or rejects when `signal` fires (the drain deadline). */
const work = (duration, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, duration);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

// Identity from /etc/hosts (HANDOVER_WORKER_ID overrides the id), version from
// HANDOVER_VERSION, NATS servers from NATS_URL: all read by the worker itself.
const worker = createWorker({ service });

worker.warmup('simulated warm-up', (signal) => work(warmupMs, signal));
/** The same work for a request and a job: TASK_MS, then the echo. */
const handle = async (payload, { signal }) => {
  await work(taskMs, signal);
  return { payload, worker: worker.id, version: worker.version };
};

worker.use(
  natsBroker({
    ...(intake === 'jetstream' ? {} : { handler: handle }),
    ...(intake === 'request'
      ? {}
      : {
          // Binds to the stream, or creates it on handover.<service>.jobs.
          jetstream: {
            stream: env.HANDOVER_STREAM ?? `${service}_jobs`,
            consumer: env.HANDOVER_CONSUMER ?? service,
            handler: handle,
          },
        }),
  }),
);

// Probes for Docker's HEALTHCHECK and Kubernetes, on their own port (PROBE_PORT); with
// DRAIN_ENDPOINT=loopback or DRAIN_TOKEN, also the preStop drain endpoint (POST /drain).
if (env.PROBE_PORT) {
  const drain =
    env.DRAIN_TOKEN !== undefined
      ? { token: env.DRAIN_TOKEN, loopbackOnly: env.DRAIN_ENDPOINT === 'loopback' }
      : env.DRAIN_ENDPOINT === 'loopback'
        ? { loopbackOnly: true }
        : false;
  await startProbeServer(worker, { port: Number(env.PROBE_PORT), drain });
}

await worker.start();
