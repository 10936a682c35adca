// Requests per second through Express and through Fastify, with the Handover adapter against
// without, measured with wrk against child servers in the same run: the two variants alternate
// (the order flips every round) and each figure is the median of the rounds. With `taskset`
// and two or more CPUs, the server and wrk are pinned to different CPUs: on a small shared
// machine, where the scheduler puts them otherwise swings the figures by tens of percent.
import { measure, pinned, type Sample } from './http-load.js';
import { median, report } from './stats.js';

const rounds = Number(process.env.ROUNDS ?? 7);
const seconds = Number(process.env.DURATION_S ?? 4);
const connections = Number(process.env.CONNECTIONS ?? 32);

/** A way to run the server: plain, or with (part of) the adapter. */
interface Variant {
  readonly label: string;
  readonly env: Record<string, string>;
}
const plain: Variant = { label: 'plain', env: { ADAPTER: '0' } };
const variants: Record<string, Variant[]> = {
  express: [
    { label: 'attachServer + handoverMiddleware', env: { ADAPTER: '1' } },
    {
      label: 'attachServer only (probes on their own port)',
      env: { ADAPTER: '1', MIDDLEWARE: '0' },
    },
  ],
  fastify: [{ label: 'handoverFastify plugin', env: { ADAPTER: '1' } }],
};

// The machine's speed drifts by ±10% between runs: every round measures the plain server and
// each variant back to back (in rotating order), and the ratios are taken within a round.
for (const framework of ['express', 'fastify']) {
  const all = [plain, ...(variants[framework] ?? [])];
  const samples = new Map<Variant, Sample[]>(all.map((v) => [v, []]));
  const ratios = new Map<Variant, number[]>(all.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    const order = all.map((_, i) => all[(i + round) % all.length] as Variant);
    const got = new Map<Variant, Sample>();
    for (const variant of order) {
      const env = { FRAMEWORK: framework, ...variant.env };
      got.set(variant, await measure(env, { seconds, warmupSeconds: 1, connections }));
    }
    for (const variant of all) {
      samples.get(variant)?.push(got.get(variant) as Sample);
      ratios.get(variant)?.push((got.get(variant) as Sample).rps / (got.get(plain) as Sample).rps);
    }
  }
  const rps = (v: Variant) => median((samples.get(v) ?? []).map((s) => s.rps));
  const cpu = (v: Variant) => median((samples.get(v) ?? []).map((s) => s.cpuUs));
  for (const variant of variants[framework] ?? []) {
    report(
      `http: ${framework}, ${variant.label}: requests/s (median of ${rounds} × ${seconds} s, wrk -c${connections}${pinned ? ', pinned' : ''})`,
      { value: rps(variant), unit: 'req/s' },
      { label: `plain ${framework}`, value: rps(plain) },
    );
    console.log(
      `http: ${framework}, ${variant.label}: median ratio within rounds ${median(ratios.get(variant) ?? []).toFixed(3)}; server CPU ${cpu(variant).toFixed(1)} us/request vs ${cpu(plain).toFixed(1)} (+${(cpu(variant) - cpu(plain)).toFixed(1)} us), capacity ratio ${(cpu(plain) / cpu(variant)).toFixed(3)}`,
    );
  }
}
