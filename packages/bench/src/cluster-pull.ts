// Pull consumers when the consumer's leader dies (issue 13). Outstanding pull requests live
// only on the consumer leader (not replicated): after a SIGKILL the client is told nothing,
// and only finds out through missed idle heartbeats. For each pull style, the gap from the
// kill to the next message delivered, with a publisher (retrying, same msg id) on a surviving
// node; the worker is on a surviving node too, or on the killed one (then it also reconnects).
// Baseline: the consumer leader election itself, in the same run.
import { type NatsCluster, startNatsCluster } from '@handover/testkit';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { sleep } from './cluster-util.js';
import { median, report } from './stats.js';

const runs = Number(process.env.RUNS ?? 2);
type Style = { label: string; mode: 'consume' | 'fetch'; expires: number; onLeader: boolean };
const styles: Style[] = [
  { label: 'consume(), default expires 30 s', mode: 'consume', expires: 30_000, onLeader: false },
  { label: 'consume({ expires: 5000 })', mode: 'consume', expires: 5000, onLeader: false },
  { label: 'fetch({ expires: 1000 }) loop', mode: 'fetch', expires: 1000, onLeader: false },
  {
    label: 'consume(), worker on the killed node',
    mode: 'consume',
    expires: 30_000,
    onLeader: true,
  },
  { label: 'fetch loop, worker on the killed node', mode: 'fetch', expires: 1000, onLeader: true },
];

async function measure(cluster: NatsCluster, style: Style, n: number) {
  const stream = `pull${n}`;
  const admin = await connect({ servers: [...cluster.urls] });
  const jsm = await jetstreamManager(admin);
  await jsm.streams.add({
    name: stream,
    subjects: [`${stream}.>`],
    retention: RetentionPolicy.Workqueue,
    num_replicas: 3,
  });
  await jsm.consumers.add(stream, { durable_name: 'w', ack_policy: AckPolicy.Explicit });
  const leader = await cluster.leaderOf({ stream, consumer: 'w' });
  const others = cluster.servers.filter((node) => node !== leader);
  const worker = await connect({
    servers: (style.onLeader ? leader : others[0])?.url,
    reconnectTimeWait: 250,
  });
  const publisher = await connect({ servers: others[1]?.url, noRandomize: true });
  let stop = false;
  const publishing = (async () => {
    const js = jetstream(publisher);
    for (let i = 0; !stop; i++) {
      for (let tries = 0; tries < 100 && !stop; tries++) {
        try {
          await js.publish(`${stream}.x`, String(i), { msgID: String(i), timeout: 1000 });
          break;
        } catch {
          await sleep(50);
        }
      }
      await sleep(50);
    }
  })();
  const received: number[] = [];
  const consumer = await jetstream(worker).consumers.get(stream, 'w');
  const consuming = (async () => {
    if (style.mode === 'consume') {
      const messages = await consumer.consume({ max_messages: 10, expires: style.expires });
      for await (const m of messages) {
        received.push(Date.now());
        m.ack();
        if (stop) break;
      }
    } else {
      while (!stop) {
        try {
          for await (const m of await consumer.fetch({
            max_messages: 10,
            expires: style.expires,
          })) {
            received.push(Date.now());
            m.ack();
          }
        } catch {
          await sleep(100);
        }
      }
    }
  })();
  await sleep(1500);
  const killedAt = Date.now();
  await leader.kill();
  await cluster.leaderOf({ stream, consumer: 'w' }, 60_000);
  const electedMs = Date.now() - killedAt;
  const deadline = Date.now() + 90_000;
  while (!received.some((t) => t > killedAt) && Date.now() < deadline) await sleep(20);
  const first = received.find((t) => t > killedAt);
  stop = true;
  await Promise.race([Promise.all([publishing, consuming]), sleep(3000)]);
  await Promise.all([worker.close(), publisher.close(), admin.close()]);
  await leader.restart();
  await cluster.waitHealthy();
  return { gapMs: first ? first - killedAt : Number.NaN, electedMs };
}

const cluster = await startNatsCluster();
let n = 0;
try {
  for (const style of styles) {
    const results = [];
    for (let run = 0; run < runs; run++) results.push(await measure(cluster, style, n++));
    report(
      `cluster: kill of the consumer leader -> next message, ${style.label} (median of ${runs}; ${results.map((r) => r.gapMs).join(', ')} ms)`,
      { value: median(results.map((r) => r.gapMs)), unit: 'ms' },
      { label: 'consumer leader elected', value: median(results.map((r) => r.electedMs)) },
    );
  }
} finally {
  await cluster.dispose();
}
