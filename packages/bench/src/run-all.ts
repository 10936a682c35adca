// Runs every benchmark in sequence; each prints its figures and ratios.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const all = [
  'core-exit',
  'core-import',
  'nats-throughput',
  'nats-exit',
  'nats-drain-order',
  'js-throughput',
  'js-drain',
  'js-roll',
  'watch-latency',
  'http-throughput',
  'lb-rolls',
  'fastify-cost',
  'fastify-instructions',
];
const scripts = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : all).map((name) =>
  fileURLToPath(new URL(`./${name}.ts`, import.meta.url)),
);
for (const script of scripts) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
