// Rolling updates behind real load balancers: two instances of each adapter (bare node:http,
// Express, Fastify) behind nginx (keepalive 16, no health check), HAProxy (`http-reuse
// always`, no check) and HAProxy with `option httpchk GET /readyz`, GET + POST load through
// the balancer, both instances rolled with SIGTERM (each restarted on its port). Five
// consecutive runs per adapter and set-up; in each run the baseline too: a bare node:http
// service stopped with `server.close()`, rolled the same way behind the same kind of balancer
// (not behind the checked one: it has no /readyz). Prints 5xx and reset counts per run, the
// rate and the drain times (SIGTERM → exit). Each instance serves WARM requests before it is
// rolled, so it is closed at the steady rate (the rate in the second before each SIGTERM is
// printed beside the rate over the whole roll, which includes the replacements' start-ups).
//   RUNS=5 RATE=2500 WARM=2000 ADAPTERS=node:http,express,fastify SETUPS=nginx,haproxy,haproxy-httpchk
import { fileURLToPath } from 'node:url';
import {
  bareCloseFixture,
  describeRoll,
  type LbRollResult,
  lbSetups,
  rollBehindLb,
} from '@handover/testkit';

const runs = Number(process.env.RUNS ?? 5);
const rate = Number(process.env.RATE ?? 2500);
const warmRequests = Number(process.env.WARM ?? 2000);
const fixtures: Record<string, string> = {
  'node:http': '../../http/test/fixtures/server.mjs',
  express: '../../express/test/fixtures/server.mjs',
  fastify: '../../fastify/test/fixtures/server.mjs',
};
const adapters = (process.env.ADAPTERS ?? Object.keys(fixtures).join(',')).split(',');
const setups = lbSetups.filter((s) =>
  (process.env.SETUPS ?? lbSetups.map((l) => l.name).join(',')).split(',').includes(s.name),
);

interface Row {
  adapter: string;
  setup: string;
  results: LbRollResult[];
}
const rows: Row[] = [];
/**
 * What the balancer said about each failed request (HAProxy logs only failed ones, nginx its
 * errors), and the old instances' close logs, to place a failure against the close. All of the
 * balancer's lines (up to 40): a refused connection retried elsewhere is not a failure, but its
 * time can place one.
 */
const why = (result: LbRollResult): string =>
  result.load.failed === 0
    ? ''
    : `\n    ${[
        `load started ${new Date(result.load.startedAt).toISOString()} (samples count from it)`,
        ...result.load.samples,
        ...result.lbLog
          .split('\n')
          // HAProxy also logs requests it redispatched ("+1"), answered and closed normally ("----").
          .filter((line) => line && !/Proxy .* started| ---- /.test(line))
          .slice(0, 40),
        ...result.closeLogs,
      ].join('\n    ')}`;
const row = (adapter: string, setup: string): Row => {
  let found = rows.find((r) => r.adapter === adapter && r.setup === setup);
  if (!found) {
    found = { adapter, setup, results: [] };
    rows.push(found);
  }
  return found;
};

for (let run = 1; run <= runs; run++) {
  for (const setup of setups) {
    for (const adapter of adapters) {
      const fixture = fileURLToPath(new URL(fixtures[adapter] as string, import.meta.url));
      const result = await rollBehindLb({
        fixture,
        setup,
        prefix: adapter.replace(':', ''),
        load: { rate },
        warmRequests,
      });
      row(adapter, setup.name).results.push(result);
      console.log(`run ${run}: ${describeRoll(result)}${why(result)}`);
    }
    if (!setup.checks) {
      const result = await rollBehindLb({
        fixture: bareCloseFixture,
        setup,
        prefix: 'bare-close',
        load: { rate },
        warmRequests,
      });
      row('bare server.close()', setup.name).results.push(result);
      console.log(`run ${run}: ${describeRoll(result)}${why(result)}`);
    }
  }
}

const list = (values: readonly number[]): string => values.join(', ');
console.log(`\nlb-rolls: ${runs} runs, target ${rate} req/s (GET + POST), two instances rolled`);
console.log(
  '| adapter | set-up | 5xx per run | resets per run | req/s before SIGTERM (median) | req/s whole roll (median) | drain ms (median) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const { adapter, setup, results } of rows) {
  const rates = results.map((r) => r.load.rate).sort((a, b) => a - b);
  const atSignal = results.flatMap((r) => r.rateBeforeSignal).sort((a, b) => a - b);
  const drains = results.flatMap((r) => r.drainMs).sort((a, b) => a - b);
  const mid = (values: number[]): number => values[Math.floor(values.length / 2)] ?? 0;
  console.log(
    `| ${adapter} | ${setup} | ${list(results.map((r) => r.load.status5xx))} | ${list(
      results.map((r) => r.load.resets),
    )} | ${mid(atSignal)} | ${mid(rates)} | ${mid(drains)} |`,
  );
}
