// Leader election after SIGKILL on a 3-node cluster (issue 13): for an R3 stream and an R3 KV
// bucket, the time from the kill of the leader until (a) a node says it leads and (b) a write
// from a client on a surviving node succeeds again, and what the writes saw meanwhile.
// Baseline, in the same run: a graceful handover ($JS.API.STREAM.LEADER.STEPDOWN).
import { type NatsCluster, startNatsCluster } from '@handover/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { errorKey, sleep } from './cluster-util.js';
import { fmt, median, report } from './stats.js';

const runs = Number(process.env.RUNS ?? 3);
type Kind = 'stream' | 'bucket';
const streamOf = (kind: Kind) => (kind === 'stream' ? 'jobs' : 'KV_registry');

/** Writes in a loop from a surviving node; returns when a write succeeds after `disrupt()`. */
async function measure(cluster: NatsCluster, kind: Kind, disrupt: 'kill' | 'stepdown') {
  const leader = await cluster.leaderOf({ stream: streamOf(kind) });
  const survivor = cluster.servers.find((node) => node !== leader && node.running);
  const nc = await connect({
    servers: survivor?.url,
    noRandomize: true,
    ignoreClusterUpdates: true,
  });
  const js = jetstream(nc);
  const kv = await new Kvm(nc).open('registry');
  let revision = await kv.put('w', 'x');
  const seen = new Map<string, number>();
  let from = 0;
  let back = 0;
  let stop = false;
  const writing = (async () => {
    for (let i = 0; !stop; i++) {
      try {
        if (kind === 'stream')
          await js.publish('jobs.x', 'x', { msgID: `${Date.now()}-${i}`, timeout: 1000 });
        else revision = await kv.update('w', String(i), revision, 1000);
        if (from && !back) back = Date.now();
      } catch (error) {
        if (from) seen.set(errorKey(error), (seen.get(errorKey(error)) ?? 0) + 1);
        await sleep(20);
      }
      await sleep(20);
    }
  })();
  await sleep(300);
  from = Date.now();
  if (disrupt === 'kill') await leader.kill();
  else
    await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${streamOf(kind)}`, undefined, {
      timeout: 5000,
    });
  const elected = await cluster.leaderOf({ stream: streamOf(kind) }, 60_000);
  const electedMs = Date.now() - from;
  while (!back) await sleep(10);
  stop = true;
  await writing;
  await nc.close();
  if (disrupt === 'kill') {
    await leader.restart();
    await cluster.waitHealthy();
  }
  return {
    electedMs,
    writesBackMs: back - from,
    newLeader: elected.name,
    errors: Object.fromEntries(seen),
  };
}

const cluster = await startNatsCluster();
try {
  const admin = await connect({ servers: cluster.urls[0] });
  await (await jetstreamManager(admin)).streams.add({
    name: 'jobs',
    subjects: ['jobs.>'],
    num_replicas: 3,
  });
  await new Kvm(admin).create('registry', { history: 1, replicas: 3 });
  await admin.close();
  for (const kind of ['stream', 'bucket'] as const) {
    const kills = [];
    const stepdowns = [];
    for (let run = 0; run < runs; run++) {
      kills.push(await measure(cluster, kind, 'kill'));
      stepdowns.push(await measure(cluster, kind, 'stepdown'));
    }
    for (const k of kills) console.log(`  ${kind} kill: ${JSON.stringify(k)}`);
    report(
      `cluster: writes to an R3 ${kind} fail after SIGKILL of its leader (median of ${runs}; runs ${kills.map((k) => k.writesBackMs).join(', ')} ms; leader seen after ${kills.map((k) => k.electedMs).join(', ')} ms)`,
      { value: median(kills.map((k) => k.writesBackMs)), unit: 'ms' },
      { label: 'graceful stepdown', value: median(stepdowns.map((k) => k.writesBackMs)) },
    );
  }
} finally {
  await cluster.dispose();
}
console.log(`(runs: ${runs}; ${fmt(process.uptime(), 0)} s)`);
