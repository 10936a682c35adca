// JetStream throughput: JOBS pre-published jobs worked off by a Handover worker against a bare
// consume() loop (`max_messages: 100`, ack each) on the same kind of consumer, same server,
// ROUNDS rounds in one run with the order of the variants rotating each round. No-op jobs
// against the bare loop as is; 1 ms jobs against a bare loop running as many at once as the
// worker. Time: from the WARM-th job done (a third of them by default: the JIT warms up on
// those) to the last ack, measured inside each process (start-up is not counted on either
// side). Figures: median jobs/s; ratio of medians. Also counts the pull
// requests each variant sends (the server's cost per job).
import { startNatsServer, waitFor } from '@handover/testkit';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { fixture, natsServerCpuMs, startNode, waitForOutput } from './proc.js';
import { fmt, median, report } from './stats.js';

const rounds = Number(process.env.ROUNDS ?? 7);
const jobs = Number(process.env.JOBS ?? 30_000);
/** Jobs done before the clock starts: the JIT warms up on them. */
const warm = Number(process.env.WARM ?? Math.floor(jobs / 3));
const levels = (process.env.CONCURRENCY ?? '16,100').split(',');
const taskKinds = (process.env.TASKS ?? '0,1').split(',');

interface Variant {
  readonly name: string;
  readonly bare: boolean;
  readonly concurrency: string;
  readonly taskMs: string;
  /** Another build of @handover/nats for this variant (COMPARE_NATS). */
  readonly build?: string;
}
/** COMPARE_NATS=<path to another build's dist/index.js>: its workers run in the same rounds. */
const compare = process.env.COMPARE_NATS;
const variants: Variant[] = [];
for (const taskMs of taskKinds) {
  // No-op jobs: one bare loop (its concurrency does not apply); 1 ms jobs: one per level.
  if (taskMs === '0') variants.push({ name: 'bare/0', bare: true, concurrency: '', taskMs });
  for (const level of levels) {
    if (taskMs !== '0')
      variants.push({ name: `bare${level}/${taskMs}`, bare: true, concurrency: level, taskMs });
    variants.push({ name: `w${level}/${taskMs}`, bare: false, concurrency: level, taskMs });
    if (compare) {
      const name = `c${level}/${taskMs}`;
      variants.push({ name, bare: false, concurrency: level, taskMs, build: compare });
    }
  }
}

const server = await startNatsServer();
const nc = await connect({ servers: server.url });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const rates: Record<string, number[]> = {};
const pulls: Record<string, number[]> = {};
/** CPU µs per job: the consuming process's, and the server's (whole run, 10 ms resolution). */
const clientCpu: Record<string, number[]> = {};
const serverCpu: Record<string, number[]> = {};
const push = (to: Record<string, number[]>, key: string, value: number) => {
  to[key] = [...(to[key] ?? []), value];
};
try {
  for (let round = 0; round < rounds; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length] as Variant);
    for (const variant of order) {
      const stream = `JS${round}x${variant.name.replace(/\W/g, '_')}`;
      await jsm.streams.add({ name: stream, subjects: [`bench.${stream}`] });
      await jsm.consumers.add(stream, { durable_name: 'bench', ack_policy: AckPolicy.Explicit });
      const body = JSON.stringify({ n: 1 });
      const acks = [];
      for (let i = 0; i < jobs; i++) acks.push(js.publish(`bench.${stream}`, body));
      await Promise.all(acks);
      let requests = 0;
      const spy = nc.subscribe(`$JS.API.CONSUMER.MSG.NEXT.${stream}.bench`, {
        callback: () => {
          requests++;
        },
      });
      const worker = await startNode(fixture(variant.bare ? 'js-bare.mjs' : 'nats-worker.mjs'), {
        NATS_URL: server.url,
        STREAM: stream,
        SERVICE: stream,
        CONCURRENCY: variant.concurrency,
        TASK_MS: variant.taskMs,
        JOBS: String(jobs),
        WARM: String(warm),
        HANDOVER_NATS: variant.build ?? '',
      });
      const serverCpu0 = natsServerCpuMs(server.port) ?? Number.NaN;
      const done = await waitForOutput(worker.child, /done ([\d.]+) cpu ([\d.]+) jobs (\d+)/);
      const ms = Number(done[1]);
      const timed = Number(done[3]);
      push(clientCpu, variant.name, (Number(done[2]) / timed) * 1000);
      // The server's share covers the whole run, warm-up included.
      push(
        serverCpu,
        variant.name,
        (((natsServerCpuMs(server.port) ?? Number.NaN) - serverCpu0) / jobs) * 1000,
      );
      push(rates, variant.name, timed / (ms / 1000));
      push(pulls, variant.name, requests);
      spy.unsubscribe();
      await waitFor(
        async () => {
          const info = await jsm.consumers.info(stream, 'bench');
          return info.num_pending === 0 && info.num_ack_pending === 0;
        },
        { timeoutMs: 30_000, what: `${stream} drained` },
      );
      await worker.stop();
      await jsm.streams.delete(stream);
    }
  }
} finally {
  await nc.close();
  await server.dispose();
}
const m = (name: string) => median(rates[name] ?? []);
for (const taskMs of taskKinds) {
  for (const level of levels) {
    const bare = taskMs === '0' ? 'bare/0' : `bare${level}/${taskMs}`;
    const worker = `w${level}/${taskMs}`;
    const what = taskMs === '0' ? 'no-op jobs' : `${taskMs} ms jobs`;
    report(
      `jetstream: ${what}/s through a Handover worker, concurrency ${level} (median of ${rounds} x ${jobs - warm} after ${warm}; rounds ${(rates[worker] ?? []).map((r) => fmt(r, 0)).join(' ')})`,
      { value: m(worker), unit: 'jobs/s' },
      {
        label:
          taskMs === '0'
            ? 'bare consume() loop, 100 buffered'
            : `bare consume() loop, 100 buffered, ${level} at once`,
        value: m(bare),
      },
    );
    const cpu = (name: string) =>
      `${fmt(median(clientCpu[name] ?? []))} µs client, ${fmt(median(serverCpu[name] ?? []))} µs server`;
    console.log(`  CPU per job: worker ${cpu(worker)}; bare ${cpu(bare)}`);
    if (compare) {
      report(
        `  the other build (COMPARE_NATS), same rounds (${(rates[`c${level}/${taskMs}`] ?? []).map((r) => fmt(r, 0)).join(' ')})`,
        { value: m(`c${level}/${taskMs}`), unit: 'jobs/s' },
        { label: 'the same bare loop', value: m(bare) },
      );
      console.log(`  CPU per job, other build: ${cpu(`c${level}/${taskMs}`)}`);
    }
    console.log(
      `  pull requests per 1000 jobs: worker ${fmt((median(pulls[worker] ?? []) / jobs) * 1000)}, bare ${fmt((median(pulls[bare] ?? []) / jobs) * 1000)}; bare rounds ${(rates[bare] ?? []).map((r) => fmt(r, 0)).join(' ')}`,
    );
  }
}
