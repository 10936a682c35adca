// Redeliveries during a start-first roll of 3 JetStream workers under RATE jobs/s (default
// 500, jobs of 10 ms): each old worker is replaced by starting a new one, waiting until it is
// ready, then SIGTERMing the old one. Counted from the acks on the wire, per stream sequence:
// deliveries beyond the first, naks, jobs acked more than once, and jobs not acked. A job that
// waits out ack_wait (30 s) shows as late: acked only after the roll was over.
import { startNatsServer, waitFor } from '@handover/testkit';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { fixture, type Started, startNode } from './proc.js';
import { fmt, median } from './stats.js';

const rolls = Number(process.env.ROLLS ?? 3);
const rate = Number(process.env.RATE ?? 500);
const server = await startNatsServer();
const nc = await connect({ servers: server.url });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Outcome {
  published: number;
  redelivered: number;
  naks: number;
  doubles: number;
  late: number;
  lost: number;
  drainsMs: number[];
}

async function roll(n: number): Promise<Outcome> {
  const stream = `ROLL${n}`;
  await jsm.streams.add({ name: stream, subjects: [`bench.${stream}`] });
  await jsm.consumers.add(stream, { durable_name: 'bench', ack_policy: AckPolicy.Explicit });
  const acks = new Map<number, number>();
  let redelivered = 0;
  let naks = 0;
  const watch = nc.subscribe(`$JS.ACK.${stream}.bench.>`, {
    callback: (_e, m) => {
      // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
      const tokens = m.subject.split('.');
      const kind = m.string().split(' ')[0];
      if (kind === '+WPI') return;
      if (Number(tokens[4]) > 1) redelivered++;
      if (kind === '-NAK') naks++;
      else if (kind === '+ACK') {
        const seq = Number(tokens[5]);
        acks.set(seq, (acks.get(seq) ?? 0) + 1);
      }
    },
  });
  const start = (id: string) =>
    startNode(fixture('nats-worker.mjs'), {
      NATS_URL: server.url,
      STREAM: stream,
      SERVICE: stream.toLowerCase(),
      WORKER_ID: id,
      TASK_MS: '10',
    });
  const workers: Started[] = [];
  for (let i = 1; i <= 3; i++) workers.push(await start(`w${i}-v1`));

  const published: Promise<number>[] = [];
  let publishing = true;
  const load = (async () => {
    const perTick = rate / 100;
    let due = performance.now();
    while (publishing) {
      for (let i = 0; i < perTick; i++) {
        published.push(js.publish(`bench.${stream}`, '{}').then((ack) => ack.seq));
      }
      due += 10;
      await sleep(Math.max(0, due - performance.now()));
    }
  })();
  await sleep(1000);
  const drainsMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const next = await start(`w${i + 1}-v2`);
    const stopped = await (workers[i] as Started).stop();
    if (stopped.code !== 0) throw new Error(`w${i + 1}-v1 exited ${stopped.code}`);
    drainsMs.push(stopped.ms);
    workers[i] = next;
    await sleep(300);
  }
  await sleep(1000);
  publishing = false;
  await load;
  const seqs = await Promise.all(published);
  const rolledAt = Date.now();
  let late = 0;
  await waitFor(() => seqs.every((seq) => acks.has(seq)) || undefined, {
    timeoutMs: 10_000,
    what: 'every job acked',
  }).catch(() => {
    late = seqs.filter((seq) => !acks.has(seq)).length;
  });
  if (late > 0) {
    // Give a dropped job its ack_wait (30 s) to come back: late, not lost.
    await waitFor(() => seqs.every((seq) => acks.has(seq)) || undefined, {
      timeoutMs: 40_000 - (Date.now() - rolledAt),
    }).catch(() => {});
  }
  for (const worker of workers) await worker.stop();
  watch.unsubscribe();
  await jsm.streams.delete(stream);
  return {
    published: seqs.length,
    redelivered,
    naks,
    doubles: [...acks.values()].filter((count) => count > 1).length,
    late,
    lost: seqs.filter((seq) => !acks.has(seq)).length,
    drainsMs,
  };
}

try {
  for (let n = 0; n < rolls; n++) {
    const o = await roll(n);
    console.log(
      `jetstream roll ${n + 1}/${rolls} (3 workers, start-first, ${rate} jobs/s of 10 ms): ${o.published} published, redelivered ${o.redelivered}, naks ${o.naks}, acked twice ${o.doubles}, late (after ack_wait) ${o.late}, lost ${o.lost}; drains ${o.drainsMs.map((ms) => fmt(ms, 0)).join(', ')} ms (median ${fmt(median(o.drainsMs), 0)})`,
    );
  }
} finally {
  await nc.close();
  await server.dispose();
}
