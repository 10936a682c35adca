// The demo's worker processes (examples/queue-worker), and each one's timeline: spawned,
// ready, draining, stopped (from the workers' own events), exited (from the process).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const workerScript = fileURLToPath(new URL('../queue-worker/index.mjs', import.meta.url));
const until = (check, ms, what) =>
  new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const value = check();
      if (value) {
        clearInterval(timer);
        resolve(value);
      } else if (Date.now() - started > ms) {
        clearInterval(timer);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }
    }, 5);
  });

export class Fleet {
  /** id → { id, version, spawnedAt, readyAt, drainingAt, stoppedAt, exitAt, exitCode, drainMs, abandoned, killed } */
  workers = new Map();

  constructor({ url, service, env, nc, watch, onSpawn = () => {} }) {
    Object.assign(this, { url, service, env, nc, watch, onSpawn });
    nc.subscribe(`handover.${service}.events.>`, {
      callback: (_error, msg) => {
        const event = JSON.parse(msg.string());
        const worker = this.workers.get(event.id);
        if (!worker) return;
        const at = Date.parse(event.at);
        if (event.type === 'ready') worker.readyAt = at;
        if (event.type === 'draining' || event.type === 'failed') worker.drainingAt ??= at;
        if (event.type === 'stopped')
          Object.assign(worker, {
            stoppedAt: at,
            drainMs: event.drainMs,
            abandoned: event.abandoned,
          });
      },
    });
  }

  start(id, version) {
    const child = spawn(process.execPath, [workerScript], {
      env: {
        ...process.env,
        ...this.env,
        NATS_URL: this.url,
        HANDOVER_SERVICE: this.service,
        HANDOVER_WORKER_ID: id,
        HANDOVER_VERSION: version,
        HANDOVER_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.onSpawn(child);
    const worker = { id, version, child, spawnedAt: Date.now() };
    worker.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        Object.assign(worker, { exitAt: Date.now(), exitCode: code ?? signal });
        resolve();
      });
    });
    this.workers.set(id, worker);
    return worker;
  }

  /** Resolves when the registry lists `id` as ready. */
  ready(id, ms = 30_000) {
    return until(
      () => this.watch.snapshot().some((w) => w.id === id && w.state === 'ready'),
      ms,
      `${id} in the registry`,
    );
  }

  /** SIGTERM, then wait for deregistration and exit; SIGKILL when the grace period ends. */
  async stop(id, graceMs) {
    const worker = this.workers.get(id);
    worker.child.kill('SIGTERM');
    const killer = setTimeout(() => {
      worker.killed = true;
      worker.child.kill('SIGKILL');
    }, graceMs);
    await worker.exited;
    clearTimeout(killer);
    await until(
      () => !this.watch.snapshot().some((w) => w.id === id),
      5000,
      `${id} gone from the registry`,
    ).catch(() => {});
  }

  async stopAll(graceMs) {
    await Promise.all(
      [...this.workers.values()]
        .filter((w) => w.exitAt === undefined)
        .map((w) => this.stop(w.id, graceMs)),
    );
  }
}
