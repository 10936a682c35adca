// The cost of the Handover Fastify plugin: bare Fastify against Fastify with `handoverFastify`,
// one route answering `ok`, wrk in its own process. Each round starts a fresh server of each
// variant, warms each up, then loads them in turn in short bursts (the order rotating), so that
// what else runs on the machine weighs on every variant alike; a round's figure for a variant
// is its requests/s over its bursts and the server's CPU time per request (process.cpuUsage of
// the server over exactly its bursts: on a shared machine it drifts far less than requests/s).
// The results are the medians over the rounds. Target (issue 11): ≥ 0.97 of bare Fastify by
// both.
//
// ROUNDS (9), BURSTS per variant and round (5), BURST_S (1), WARMUP_S (2), CONNECTIONS (32),
// PIN=0 to not pin. SERVER_NODE_FLAGS="--max-semi-space-size=16 --min-semi-space-size=16"
// takes V8's young-generation sizing out of the comparison: without it a server process
// settles at random into a fast or a slow GC regime (15-30% apart), and the plugin's process
// landed in the fast one more often (docs/benchmarks.md). EXTRA=bare-fp,bare-none add bare
// Fastify with the empty plugin registered unencapsulated, or none: controls of the noise. BEFORE=<another checkout of the repository, built>: its plugin runs in
// the same rounds too, to compare two builds on the same machine minute.

import { bare, fastifyVariants, type Variant } from './fastify-variants.js';
import { load, pinned, type ServerProcess, startServer } from './http-load.js';
import { fmt, median, quantile } from './stats.js';

const rounds = Number(process.env.ROUNDS ?? 9);
const bursts = Number(process.env.BURSTS ?? 5);
const burstSeconds = Number(process.env.BURST_S ?? 1);
const warmupSeconds = Number(process.env.WARMUP_S ?? 2);
const connections = Number(process.env.CONNECTIONS ?? 32);
const target = 0.97;

const variants = fastifyVariants();

interface Sample {
  readonly rps: number;
  /** Server CPU time per request, microseconds. */
  readonly cpuUs: number;
}

/** One round: fresh servers, warmed up, loaded in turn `bursts` times each. */
async function round(
  order: Variant[],
): Promise<{ total: Map<Variant, Sample>; bursts: Map<Variant, Sample>[] }> {
  const servers = new Map<Variant, ServerProcess>();
  try {
    for (const variant of order) servers.set(variant, await startServer(variant.env));
    for (const server of servers.values()) await load(server.port, warmupSeconds, connections);
    const totals = new Map(order.map((v) => [v, { requests: 0, seconds: 0, cpuUs: 0 }]));
    const each: Map<Variant, Sample>[] = [];
    for (let burst = 0; burst < bursts; burst++) {
      const got = new Map<Variant, Sample>();
      for (let i = 0; i < order.length; i++) {
        const variant = order[(i + burst) % order.length] as Variant;
        const server = servers.get(variant) as ServerProcess;
        const total = totals.get(variant) as { requests: number; seconds: number; cpuUs: number };
        const before = await server.cpuMicros();
        const { rps, requests } = await load(server.port, burstSeconds, connections);
        const cpuUs = (await server.cpuMicros()) - before;
        got.set(variant, { rps, cpuUs: cpuUs / requests });
        total.cpuUs += cpuUs;
        total.requests += requests;
        total.seconds += requests / rps;
      }
      each.push(got);
    }
    const total = new Map(
      [...totals].map(([v, t]) => [
        v,
        { rps: t.requests / t.seconds, cpuUs: t.cpuUs / t.requests },
      ]),
    );
    return { total, bursts: each };
  } finally {
    for (const server of servers.values()) await server.stop();
  }
}

const samples = new Map<Variant, Sample[]>(variants.map((v) => [v, []]));
/** Per variant, its ratio to bare Fastify in each burst (loaded one after the other). */
const pairs = new Map<Variant, { rps: number[]; cpu: number[] }>(
  variants.map((v) => [v, { rps: [], cpu: [] }]),
);
console.log(
  `fastify-cost: ${rounds} rounds of ${bursts} × ${burstSeconds} s per variant after ${warmupSeconds} s of warm-up, wrk -t1 -c${connections}${pinned ? ', server and wrk pinned to their own CPUs' : ''}`,
);
for (let r = 0; r < rounds; r++) {
  const order = variants.map((_, i) => variants[(i + r) % variants.length] as Variant);
  const got = await round(order);
  const line: string[] = [];
  for (const variant of variants) {
    const sample = got.total.get(variant) as Sample;
    samples.get(variant)?.push(sample);
    line.push(`${variant.label} ${fmt(sample.rps, 0)} req/s ${fmt(sample.cpuUs, 2)} µs`);
    for (const burst of got.bursts) {
      const mine = burst.get(variant) as Sample;
      const base = burst.get(bare) as Sample;
      pairs.get(variant)?.rps.push(mine.rps / base.rps);
      pairs.get(variant)?.cpu.push(base.cpuUs / mine.cpuUs);
    }
  }
  console.log(`  round ${r + 1}: ${line.join(' | ')}`);
}

const rps = (v: Variant) => median((samples.get(v) ?? []).map((s) => s.rps));
const cpu = (v: Variant) => median((samples.get(v) ?? []).map((s) => s.cpuUs));
/** The ratio to bare Fastify within each round (capacity ratio for CPU), then their median. */
const withinRounds = (v: Variant, of: (s: Sample) => number, inverse = false) =>
  median(
    (samples.get(v) ?? []).map((s, i) => {
      const base = (samples.get(bare) ?? [])[i] as Sample;
      return inverse ? of(base) / of(s) : of(s) / of(base);
    }),
  );
console.log(
  `bare Fastify: ${fmt(rps(bare), 0)} req/s, ${fmt(cpu(bare), 2)} µs CPU per request (medians)`,
);
for (const variant of variants.slice(1)) {
  const rpsRatio = rps(variant) / rps(bare);
  const cpuRatio = cpu(bare) / cpu(variant);
  const verdict = rpsRatio >= target && cpuRatio >= target ? 'met' : 'not met';
  console.log(
    `${variant.label}: ${fmt(rps(variant), 0)} req/s, ratio of medians ${fmt(rpsRatio, 3)} (median ratio within rounds ${fmt(
      withinRounds(variant, (s) => s.rps),
      3,
    )}); ${fmt(cpu(variant), 2)} µs CPU per request (+${fmt(cpu(variant) - cpu(bare), 2)} µs), capacity ratio ${fmt(cpuRatio, 3)} (within rounds ${fmt(
      withinRounds(variant, (s) => s.cpuUs, true),
      3,
    )}); target ≥ ${target}: ${verdict}`,
  );
  const pair = pairs.get(variant) ?? { rps: [], cpu: [] };
  console.log(
    `  burst by burst (${pair.rps.length} pairs with bare Fastify): median req/s ratio ${fmt(median(pair.rps), 3)}, median capacity ratio ${fmt(median(pair.cpu), 3)} (quartiles ${fmt(quantile(pair.cpu, 0.25), 3)}–${fmt(quantile(pair.cpu, 0.75), 3)})`,
  );
}
