// Load from inside the service's overlay network (run by src/nats-load.ts in a container of the
// base image, with the repository mounted read-only): plain NATS requests WITHOUT retry and
// JetStream job publishes that wait for the stream's ack, both open-loop (a fixed rate whatever
// the answers, so a gap shows up as failures, not as a slower client). It also counts the
// workers' acks and records their lifecycle events. On SIGTERM it stops sending, waits for the
// answers and the acks, and prints one JSON summary line on stdout.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const env = process.env;
const number = (name, fallback) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}: expected a number >= 0`);
  return value;
};
const service = env.HANDOVER_SERVICE ?? 'orders';
const stream = env.HANDOVER_STREAM ?? `${service}_jobs`;
const consumer = env.HANDOVER_CONSUMER ?? service;
const rate = number('RATE', 100);
const jobRate = number('JOB_RATE', 20);
const timeoutMs = number('TIMEOUT_MS', 5000);
const ackBoundMs = number('ACK_BOUND_MS', 45_000);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (fields) => process.stderr.write(`${JSON.stringify({ at: Date.now(), ...fields })}\n`);

async function connectRetrying() {
  const started = Date.now();
  for (;;) {
    try {
      return await connect({ servers: env.NATS_URL, maxReconnectAttempts: -1 });
    } catch (error) {
      if (Date.now() - started > 30_000) throw error;
      await sleep(250);
    }
  }
}

const nc = await connectRetrying();
const js = jetstream(nc);
const t0 = Date.now();

/** Per-second buckets of answers: the timeline of who answered, and where failures fell. */
const seconds = [];
const bucket = (at) => {
  const i = Math.max(0, Math.floor((at - t0) / 1000));
  for (let k = seconds.length; k <= i; k++) seconds.push({ ok: 0, failed: 0, versions: {} });
  return seconds[i];
};
const bump = (counts, key) => {
  counts[key] = (counts[key] ?? 0) + 1;
};
const requests = { sent: 0, ok: 0, failed: 0, errors: {}, versions: {}, workers: {}, failures: [] };
const jobs = { sent: 0, published: [], publishFailed: 0, errors: {} };
const acks = new Map(); // stream seq -> { acks, naks, maxDelivered }
const events = [];

nc.subscribe(`$JS.ACK.${stream}.${consumer}.>`, {
  callback: (_error, msg) => {
    // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>
    const tokens = msg.subject.split('.');
    const seq = Number(tokens[5]);
    const kind = msg.string().split(' ')[0] || '+ACK';
    const entry = acks.get(seq) ?? { acks: 0, naks: 0, maxDelivered: 0 };
    entry.maxDelivered = Math.max(entry.maxDelivered, Number(tokens[4]));
    if (kind === '+ACK') entry.acks++;
    if (kind === '-NAK') entry.naks++;
    acks.set(seq, entry);
  },
});
nc.subscribe(`handover.${service}.events.>`, {
  callback: (_error, msg) => {
    try {
      events.push({ receivedAt: Date.now(), ...msg.json() });
    } catch {}
  },
});
await nc.flush();

const pending = new Set();
const track = (promise) => {
  pending.add(promise);
  promise.finally(() => pending.delete(promise));
};
const errorKind = (error) => {
  const cause = error?.cause;
  if (cause?.name === 'NoRespondersError' || error?.isNoResponders?.()) return 'no responders';
  if (error?.name === 'TimeoutError' || cause?.name === 'TimeoutError') return 'timeout';
  return `${error?.name ?? 'Error'}: ${String(error?.message ?? error).slice(0, 80)}`;
};

function sendRequest(n) {
  const sentAt = Date.now();
  requests.sent++;
  const fail = (kind) => {
    requests.failed++;
    bump(requests.errors, kind);
    bucket(Date.now()).failed++;
    if (requests.failures.length < 50)
      requests.failures.push({ n, sentAt, doneAt: Date.now(), error: kind });
  };
  track(
    nc
      .request(`handover.${service}.tasks`, JSON.stringify({ n }), { timeout: timeoutMs })
      .then((reply) => {
        const code = reply.headers?.get('Nats-Service-Error-Code');
        if (code) return fail(`error ${code}`);
        const body = reply.json();
        requests.ok++;
        bump(requests.versions, body.version);
        bump(requests.workers, body.worker);
        const b = bucket(Date.now());
        b.ok++;
        bump(b.versions, body.version);
      })
      .catch((error) => fail(errorKind(error))),
  );
}

function publishJob(n) {
  jobs.sent++;
  track(
    js
      .publish(`handover.${service}.jobs`, JSON.stringify({ job: n }), { timeout: timeoutMs })
      .then((ack) => jobs.published.push(ack.seq))
      .catch((error) => {
        jobs.publishFailed++;
        bump(jobs.errors, errorKind(error));
      }),
  );
}

// A fixed schedule: every tick sends what is due since t0, so a busy event loop catches up
// instead of quietly lowering the rate.
let stopped = false;
const ticker = setInterval(() => {
  const elapsed = (Date.now() - t0) / 1000;
  while (requests.sent < Math.floor(elapsed * rate)) sendRequest(requests.sent);
  while (jobs.sent < Math.floor(elapsed * jobRate)) publishJob(jobs.sent);
}, 10);
log({ loading: true, rate, jobRate, timeoutMs });

process.once('SIGTERM', async () => {
  if (stopped) return;
  stopped = true;
  clearInterval(ticker);
  const sendingMs = Date.now() - t0;
  await Promise.allSettled([...pending]);
  // Every published job must be acked, by some worker, within the bound (> ack_wait: a job
  // held by a killed worker would come back only after ack_wait).
  const ackStarted = Date.now();
  const unacked = () => jobs.published.filter((seq) => !(acks.get(seq)?.acks > 0));
  while (unacked().length > 0 && Date.now() - ackStarted < ackBoundMs) await sleep(100);
  const ackWaitMs = Date.now() - ackStarted;
  let consumerInfo = null;
  if (jobRate > 0) {
    try {
      const info = await (await jetstreamManager(nc)).consumers.info(stream, consumer);
      consumerInfo = {
        numPending: info.num_pending,
        numAckPending: info.num_ack_pending,
        numRedelivered: info.num_redelivered,
        ackWaitMs: Math.round(info.config.ack_wait / 1e6),
      };
    } catch (error) {
      consumerInfo = { error: errorKind(error) };
    }
  }
  const left = unacked();
  const summary = {
    t0,
    sendingMs,
    options: { rate, jobRate, timeoutMs },
    requests,
    jobs: {
      sent: jobs.sent,
      published: jobs.published.length,
      publishFailed: jobs.publishFailed,
      errors: jobs.errors,
      acked: jobs.published.length - left.length,
      unacked: left.length,
      unackedSample: left.slice(0, 20),
      ackedTwice: jobs.published.filter((seq) => acks.get(seq)?.acks > 1).length,
      redelivered: jobs.published.filter((seq) => acks.get(seq)?.maxDelivered > 1).length,
      naks: [...acks.values()].reduce((sum, entry) => sum + entry.naks, 0),
      ackWaitMs,
    },
    consumer: consumerInfo,
    events,
    seconds,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  await nc.close();
  process.exit(0);
});
