// The cost of the Handover Fastify plugin in instructions: the steady figure behind
// fastify-cost's requests/s and CPU time, which drift 5-30% on a shared 2-vCPU machine.
// Each variant's server runs under valgrind's callgrind with instrumentation off; it is warmed
// up (WARM requests, JIT settled), then instrumentation is switched on for WINDOWS windows of
// REQUESTS requests each (8 keep-alive connections, one request in flight on each, from a
// client in this process, which valgrind does not see), a dump after each. The first window is
// a settling one (switching instrumentation on retranslates the hot code); the figure is the
// mean of the others, in instructions per request. It counts user-space instructions of every
// thread of the server (JIT code, V8, Node, libuv), not the kernel's share (socket reads and
// writes), so the ratio is roughly a lower bound of a CPU-time ratio: the adapter's cost is all
// in user space. Why a mean over long windows: the garbage collector's periodic work lands in
// some windows and not others (windows of 20,000 requests alternated between ~52,300 and
// ~66,400 instructions per request for bare Fastify), and it is part of what a request costs.
//
// WARM (100000), REQUESTS (40000), WINDOWS (4), REPEATS (1) processes per variant; EXTRA and
// BEFORE add variants as in fastify-cost (fastify-variants.ts). Needs valgrind (callgrind_control).
// About 4 minutes per variant and repeat; every window's figure is printed.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bare, fastifyVariants, type Variant } from './fastify-variants.js';
import { fmt, median } from './stats.js';

const warm = Number(process.env.WARM ?? 100_000);
const requests = Number(process.env.REQUESTS ?? 40_000);
const windows = Math.max(2, Number(process.env.WINDOWS ?? 4));
const repeats = Number(process.env.REPEATS ?? 1);
const connections = 8;
const target = 0.97;
const valgrind = '/usr/bin/valgrind';
const control = '/usr/bin/callgrind_control';
const script = fileURLToPath(new URL('./http-server.ts', import.meta.url));

const variants = fastifyVariants();

/**
 * Sends exactly `count` `GET /` over keep-alive connections; rejects on any non-200. A minimal
 * request of its own, not the test kit's load: node:http's client sends more headers, which
 * cost the server ~2,700 instructions a request more (after a short warm-up), and the figures
 * in docs/benchmarks.md were counted with this request.
 */
function send(port: number, count: number): Promise<void> {
  let sent = 0;
  const request = Buffer.from('GET / HTTP/1.1\r\nHost: bench\r\n\r\n');
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      let buffer = '';
      const next = (): void => {
        if (sent >= count) {
          socket.end();
          resolve();
          return;
        }
        sent++;
        socket.write(request);
      };
      socket.setEncoding('latin1');
      socket.on('connect', next);
      socket.on('error', reject);
      // A server that closes the connection first (it died) must not leave us waiting.
      socket.on('close', () => reject(new Error(`connection closed after ${sent} of ${count}`)));
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        for (;;) {
          const end = buffer.indexOf('\r\n\r\n');
          if (end < 0) return;
          const length = Number(/content-length: (\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
          if (buffer.length < end + 4 + length) return;
          if (!buffer.startsWith('HTTP/1.1 200')) {
            reject(new Error(`unexpected answer: ${buffer.slice(0, 40)}`));
            socket.destroy();
            return;
          }
          buffer = buffer.slice(end + 4 + length);
          next();
        }
      });
    });
  return Promise.all(Array.from({ length: connections }, one)).then(() => undefined);
}

/** Sends a command to the server's callgrind; callgrind_control exits 0 even when it failed. */
async function callgrind(pid: number, ...args: string[]): Promise<void> {
  const { stdout, stderr } = await promisify(execFile)(control, [...args, String(pid)]);
  if (/error|not detected/i.test(stdout + stderr)) {
    throw new Error(`callgrind_control ${args.join(' ')}: ${stdout}${stderr}`);
  }
}

/** One server process under callgrind: instructions per request in each window, in order. */
async function measure(variant: Variant): Promise<number[]> {
  const perWindow: number[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'handover-callgrind-'));
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> | undefined;
  try {
    child = spawn(
      valgrind,
      [
        '--tool=callgrind',
        '--instr-atstart=no',
        `--callgrind-out-file=${join(dir, 'out')}`,
        process.execPath,
        '--max-semi-space-size=16',
        '--min-semi-space-size=16',
        '--import',
        'tsx',
        script,
      ],
      { env: { ...process.env, ...variant.env }, stdio: ['pipe', 'pipe', 'ignore'] },
    );
    const server = child;
    exited = once(server, 'exit');
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      server.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const listening = /listening (\d+)/.exec(out);
        if (listening) resolve(Number(listening[1]));
      });
      server.once('exit', (code) => reject(new Error(`server exited under valgrind: ${code}`)));
    });
    const pid = server.pid as number;
    await send(port, warm);
    // Instrumentation stays on from the settling window to the end: each dump zeroes the
    // counters, so the windows follow each other with nothing switched in between.
    await callgrind(pid, '-i', 'on');
    for (let w = 0; w < windows; w++) {
      await send(port, requests);
      await callgrind(pid, '-d');
      const dumps = (await readdir(dir)).filter((name) => /^out\.\d+$/.test(name)).sort();
      const last = dumps.at(-1);
      if (last === undefined) throw new Error('callgrind wrote no dump');
      const text = await readFile(join(dir, last), 'utf8');
      const totals = /^totals: (\d+)/m.exec(text);
      if (!totals || Number(totals[1]) === 0) throw new Error(`no instructions counted in ${last}`);
      perWindow.push(Math.round(Number(totals[1]) / requests));
      await rm(join(dir, last));
    }
    return perWindow;
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

if (!existsSync(valgrind) || !existsSync(control)) {
  console.log('fastify-instructions: skipped (needs valgrind with callgrind_control)');
  process.exit(0);
}
console.log(
  `fastify-instructions: callgrind, ${warm} requests of warm-up, then ${windows} windows of ${requests} (the first settles, the mean of the others counts), ${repeats} process(es) per variant`,
);
const counts = new Map<Variant, number[]>(variants.map((v) => [v, []]));
for (let r = 0; r < repeats; r++) {
  for (const variant of variants) {
    const perWindow = await measure(variant);
    // The settling window aside, the mean: the garbage collector's periodic work falls in some
    // windows and not others, and belongs to the cost of a request.
    const measured = perWindow.slice(1);
    const perRequest = measured.reduce((sum, n) => sum + n, 0) / measured.length;
    counts.get(variant)?.push(perRequest);
    console.log(
      `  ${variant.label}: ${Math.round(perRequest)} instructions per request (windows: ${perWindow.join(', ')})`,
    );
  }
}
const base = median(counts.get(bare) ?? []);
console.log(`bare Fastify: ${Math.round(base)} instructions per request (median)`);
for (const variant of variants.slice(1)) {
  const value = median(counts.get(variant) ?? []);
  const ratio = base / value;
  console.log(
    `${variant.label}: ${Math.round(value)} instructions per request (+${Math.round(value - base)}), ratio ${fmt(ratio, 3)}; target ≥ ${target} (user space only: see the header): ${ratio >= target ? 'met' : 'not met'}`,
  );
}
