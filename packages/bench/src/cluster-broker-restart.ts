// A broker upgrade, one node (issue 13): the node a client is connected to, and which leads the
// R3 stream and bucket the client writes to, is SIGTERMed, or put in lame-duck mode (the kit's
// grace period: 2 s), or put in lame-duck mode with the client reconnecting at once on the
// `ldm` notice (nc.reconnect()). Prints how long the client was away and how many of its
// writes (publish + KV update, 1 s timeout each, back to back) failed.
// Baseline: the writes that succeed in an undisturbed run of the same length (the ratio is the
// share of writes lost to the disruption, before any retry).
import { type NatsCluster, startNatsCluster } from '@handover/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { errorKey, sleep } from './cluster-util.js';
import { report } from './stats.js';

const runs = Number(process.env.RUNS ?? 3);
type How = 'none' | 'SIGTERM' | 'lame duck' | 'lame duck + reconnect on ldm';

async function measure(cluster: NatsCluster, how: How, n: number) {
  const admin = await connect({ servers: [...cluster.urls] });
  await (await jetstreamManager(admin)).streams.add({
    name: `s${n}`,
    subjects: [`s${n}.>`],
    num_replicas: 3,
  });
  await new Kvm(admin).create(`b${n}`, { replicas: 3 });
  const target = await cluster.leaderOf({ stream: `s${n}` });
  const nc = await connect({ servers: target.url, maxReconnectAttempts: -1 });
  let away = 0;
  let disconnectedAt = 0;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'ldm' && how === 'lame duck + reconnect on ldm') void nc.reconnect();
      if (status.type === 'disconnect') disconnectedAt = Date.now();
      if (status.type === 'reconnect' && disconnectedAt) away = Date.now() - disconnectedAt;
    }
  })();
  const js = jetstream(nc);
  const kv = await new Kvm(nc).open(`b${n}`);
  let revision = await kv.put('k', '0');
  // A long-lived connection: nats.js waits reconnectTimeWait (2 s) before dialling a server it
  // connected to less than that long ago.
  await sleep(2500);
  const failures: string[] = [];
  let ok = 0;
  let stop = false;
  const writing = (async () => {
    for (let i = 0; !stop; i++) {
      try {
        await js.publish(`s${n}.x`, 'x', { msgID: `p${i}`, timeout: 1000 });
        revision = await kv.update('k', String(i), revision, 1000);
        ok++;
      } catch (error) {
        failures.push(errorKey(error));
        // A write whose ack was lost may have been stored: read the key's revision again.
        if (/wrong last sequence/.test((error as Error).message))
          revision = (await kv.get('k'))?.revision ?? revision;
      }
      await sleep(20);
    }
  })();
  await sleep(500);
  if (how === 'SIGTERM') await target.stop();
  else if (how !== 'none') {
    await target.lameDuck();
    await target.exited();
  }
  await sleep(how === 'none' ? 3500 : 3000);
  stop = true;
  await writing;
  await Promise.all([nc.close(), admin.close()]);
  if (how !== 'none') {
    await target.restart();
    await cluster.waitHealthy();
  }
  return { away, failures, ok };
}

const cluster = await startNatsCluster();
let n = 0;
try {
  const baseline = await measure(cluster, 'none', n++);
  for (const how of ['SIGTERM', 'lame duck', 'lame duck + reconnect on ldm'] as const) {
    const results = [];
    for (let run = 0; run < runs; run++) results.push(await measure(cluster, how, n++));
    for (const r of results)
      console.log(`  ${how}: away ${r.away} ms, ${r.ok} ok, failed: ${JSON.stringify(r.failures)}`);
    report(
      `cluster: ${how} of the client's node, failed writes per run (${runs} runs: ${results.map((r) => r.failures.length).join(', ')}; away ${results.map((r) => r.away).join(', ')} ms)`,
      { value: results.reduce((sum, r) => sum + r.failures.length, 0) / runs, unit: 'writes' },
      { label: 'writes in an undisturbed run', value: baseline.ok },
    );
  }
} finally {
  await cluster.dispose();
}
