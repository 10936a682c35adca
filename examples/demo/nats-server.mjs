// The broker for the demo: NATS_URL if set, else a private nats-server with JetStream on a free
// port in a temporary directory.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

function findBinary() {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/usr/local/bin']);
  for (const dir of dirs) {
    try {
      const candidate = join(dir, 'nats-server');
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Returns `{ url, stop() }`, or `undefined` when there is neither NATS_URL nor a binary. */
export async function broker() {
  if (process.env.NATS_URL)
    return { url: process.env.NATS_URL, private: false, stop: async () => {} };
  const bin = findBinary();
  if (!bin) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'handover-demo-'));
  const port = await freePort();
  const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 10_000);
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      log += chunk;
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`nats-server exited with ${code}:\n${log}`)));
  });
  child.removeAllListeners('exit');
  // A demo that dies takes its broker with it.
  process.on('exit', () => child.kill('SIGKILL'));
  return {
    url: `nats://127.0.0.1:${port}`,
    private: true,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
