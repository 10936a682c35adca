// Requests per second through Express and through Fastify, with the Handover adapter against
// without, measured with wrk against child servers in the same run: the two variants alternate
// (the order flips every round) and each figure is the median of the rounds. With `taskset`
// and two or more CPUs, the server and wrk are pinned to different CPUs: on a small shared
// machine, where the scheduler puts them otherwise swings the figures by tens of percent.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median, report } from './stats.js';

const rounds = Number(process.env.ROUNDS ?? 7);
const seconds = Number(process.env.DURATION_S ?? 4);
const connections = Number(process.env.CONNECTIONS ?? 32);
const wrk = process.env.WRK_BIN ?? 'wrk';
const script = fileURLToPath(new URL('./http-server.ts', import.meta.url));
const pin =
  process.env.PIN !== '0' && availableParallelism() >= 2 && executable('/usr/bin/taskset');
/** Prefixes a command with `taskset -c <cpu>` when pinning. */
const on = (cpu: number, command: string, args: string[]): [string, string[]] =>
  pin ? ['/usr/bin/taskset', ['-c', String(cpu), command, ...args]] : [command, args];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function startServer(
  framework: string,
  variant: Variant,
): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const [command, args] = on(availableParallelism() - 1, process.execPath, [
      '--import',
      'tsx',
      script,
    ]);
    const child = spawn(command, args, {
      env: { ...process.env, FRAMEWORK: framework, ...variant.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffer = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const match = /listening (\d+)/.exec(buffer);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${framework} server exited with ${code}`)));
  });
}

async function requestsPerSecond(port: number, duration: number): Promise<number> {
  const [command, args] = on(0, wrk, [
    '-t1',
    `-c${connections}`,
    `-d${duration}s`,
    `http://127.0.0.1:${port}/`,
  ]);
  const { stdout } = await promisify(execFile)(command, args);
  const match = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  if (!match || /Non-2xx|Socket errors/.test(stdout)) throw new Error(`wrk failed:\n${stdout}`);
  return Number(match[1]);
}

/** CPU seconds (user + system) the process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}
const ticksPerSecond = 100;

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

interface Sample {
  readonly rps: number;
  readonly cpuUs: number | undefined;
}

/** Requests per second, and the server's CPU time per request in microseconds. */
async function measure(framework: string, variant: Variant): Promise<Sample> {
  const { child, port } = await startServer(framework, variant);
  try {
    await requestsPerSecond(port, 1); // warm-up: JIT and connection setup
    const before = cpuSeconds(child.pid ?? -1);
    const rps = await requestsPerSecond(port, seconds);
    const after = cpuSeconds(child.pid ?? -1);
    const cpuUs =
      before === undefined || after === undefined
        ? undefined
        : ((after - before) / (rps * seconds)) * 1e6;
    return { rps, cpuUs };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

// The machine's speed drifts by ±10% between runs: every round measures the plain server and
// each variant back to back (in rotating order), and the ratios are taken within a round.
for (const framework of ['express', 'fastify']) {
  const all = [plain, ...(variants[framework] ?? [])];
  const samples = new Map<Variant, Sample[]>(all.map((v) => [v, []]));
  const ratios = new Map<Variant, number[]>(all.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    const order = all.map((_, i) => all[(i + round) % all.length] as Variant);
    const got = new Map<Variant, Sample>();
    for (const variant of order) got.set(variant, await measure(framework, variant));
    for (const variant of all) {
      samples.get(variant)?.push(got.get(variant) as Sample);
      ratios.get(variant)?.push((got.get(variant) as Sample).rps / (got.get(plain) as Sample).rps);
    }
  }
  const rps = (v: Variant) => median((samples.get(v) ?? []).map((s) => s.rps));
  const cpu = (v: Variant) =>
    median((samples.get(v) ?? []).flatMap((s) => (s.cpuUs === undefined ? [] : [s.cpuUs])));
  for (const variant of variants[framework] ?? []) {
    report(
      `http: ${framework}, ${variant.label}: requests/s (median of ${rounds} × ${seconds} s, wrk -c${connections}${pin ? ', pinned' : ''})`,
      { value: rps(variant), unit: 'req/s' },
      { label: `plain ${framework}`, value: rps(plain) },
    );
    console.log(
      `http: ${framework}, ${variant.label}: median ratio within rounds ${median(ratios.get(variant) ?? []).toFixed(3)}; server CPU ${cpu(variant).toFixed(1)} us/request vs ${cpu(plain).toFixed(1)} (+${(cpu(variant) - cpu(plain)).toFixed(1)} us), capacity ratio ${(cpu(plain) / cpu(variant)).toFixed(3)}`,
    );
  }
}
