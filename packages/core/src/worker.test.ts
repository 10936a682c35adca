import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger, FakeProcess, RecordingBroker, RecordingServer } from '../test/fakes.js';
import { flush, ManualClock } from '../test/manual-clock.js';
import { HandoverError, TaskAbortedError } from './errors.js';
import type { WorkerOptions } from './options.js';
import type { WorkerState } from './state.js';
import type { Worker } from './types.js';
import { createWorker } from './worker.js';

interface Rig {
  worker: Worker;
  clock: ManualClock;
  proc: FakeProcess;
  broker: RecordingBroker;
  logger: ReturnType<typeof captureLogger>;
  states: WorkerState[];
}

const rigs: Rig[] = [];

function rig(options: Partial<WorkerOptions> = {}, withBroker = true): Rig {
  const clock = new ManualClock();
  const proc = new FakeProcess();
  const logger = captureLogger();
  const broker = new RecordingBroker();
  const worker = createWorker({
    service: 'orders',
    identity: { id: 'w-1', hostname: 'w-1', addresses: ['10.0.0.5'] },
    clock,
    process: proc,
    logger,
    env: {},
    ...options,
  });
  const states: WorkerState[] = [worker.state];
  worker.on('state', (change) => states.push(change.to));
  if (withBroker) worker.use(broker);
  const r = { worker, clock, proc, broker, logger, states };
  rigs.push(r);
  return r;
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

afterEach(async () => {
  // Leave no worker with signal listeners installed between tests.
  for (const r of rigs.splice(0)) {
    if (r.worker.state !== 'stopped') {
      void r.worker.drain('test-cleanup');
      await r.clock.advance(60_000);
    }
  }
});

describe('createWorker', () => {
  it('warms up and connects, then opens every port, and only then turns ready', async () => {
    const { worker, broker, states, clock } = rig();
    const order: string[] = [];
    worker.warmup('first', async () => {
      order.push('first');
    });
    worker.warmup('second', async () => {
      order.push('second');
    });
    await worker.start();
    expect(order).toEqual(['first', 'second']);
    expect(states).toEqual(['created', 'warming', 'ready']);
    expect(broker.calls).toEqual(['connect', 'open:warming', 'opened']);
    expect(worker.ready).toBe(true);
    expect(broker.context?.snapshot()).toMatchObject({
      state: 'ready',
      readyAt: clock.now(),
      pid: 4242,
      http: undefined,
      inflight: 0,
      concurrency: 16,
    });
  });

  it('stays warming while the broker is down and becomes ready when it connects', async () => {
    const { worker, broker } = rig();
    const connected = deferred();
    broker.connectGate = connected.promise;
    const started = worker.start();
    await flush();
    expect(worker.state).toBe('warming');
    expect(worker.ready).toBe(false);
    connected.resolve();
    await started;
    expect(worker.state).toBe('ready');
  });

  it('heartbeats every heartbeatMs while ready', async () => {
    const { worker, broker, clock } = rig({ heartbeatMs: 500 });
    await worker.start();
    await clock.advance(1600);
    expect(broker.calls.filter((c) => c === 'heartbeat')).toHaveLength(3);
  });

  it('drains in protocol order: announce, stop intake, finish work, deregister, hooks, close', async () => {
    const { worker, broker, proc, states, clock } = rig();
    const hookOrder: string[] = [];
    worker.onShutdown('db', () => {
      hookOrder.push('db');
      broker.calls.push('hook:db');
    });
    worker.onShutdown('cache', () => {
      hookOrder.push('cache');
      broker.calls.push('hook:cache');
    });
    await worker.start();
    const gate = deferred<string>();
    const task = worker.run(() => gate.promise, { name: 'job' });

    expect(worker.stopSignal.aborted).toBe(false);
    proc.emit('SIGTERM');
    expect(worker.state).toBe('draining');
    expect(worker.ready).toBe(false);
    expect(worker.stopSignal.aborted).toBe(true);
    expect(worker.stopSignal.reason).toBe('SIGTERM');
    await clock.advance(100);
    expect(broker.calls).toEqual([
      'connect',
      'open:warming',
      'opened',
      'draining:SIGTERM:ok',
      'stopIntake',
    ]);

    gate.resolve('done');
    await expect(task).resolves.toBe('done');
    const result = await worker.stopped;
    expect(broker.calls.slice(5)).toEqual([
      'deregister:abandoned=0',
      'hook:cache',
      'hook:db',
      'close',
    ]);
    expect(hookOrder).toEqual(['cache', 'db']);
    expect(states).toEqual(['created', 'warming', 'ready', 'draining', 'stopped']);
    expect(result).toMatchObject({
      exitCode: 0,
      reason: 'SIGTERM',
      failed: false,
      forced: false,
      wasReady: true,
    });
    expect(result.drainMs).toBe(100);
    await flush();
    expect(proc.exits).toEqual([0]);
  });

  it('lets code awaiting stopped run before it exits the process', async () => {
    const { worker, proc } = rig();
    await worker.start();
    const seen: string[] = [];
    void worker.stopped.then((result) =>
      seen.push(`stopped:${result.exitCode}:exits=${proc.exits.length}`),
    );
    proc.emit('SIGTERM');
    await worker.stopped;
    await flush();
    expect(seen).toEqual(['stopped:0:exits=0']);
    expect(proc.exits).toEqual([0]);
  });

  it('drains and deregisters a port that a stop caught while it was opening', async () => {
    const { worker, broker, proc, clock, states } = rig({ exit: false });
    const opened = deferred();
    broker.openGate = opened.promise;
    const started = worker.start();
    await flush();
    expect(broker.calls).toEqual(['connect', 'open:warming']);
    expect(worker.state).toBe('warming');
    // A task delivered by the intake it has already opened runs normally.
    const task = broker.context?.run(async () => 'delivered while opening');
    proc.emit('SIGTERM');
    expect(broker.openSignal?.aborted).toBe(true);
    await clock.advance(50);
    // Nothing is announced before the open has settled: a late `ready` cannot follow `draining`.
    expect(broker.calls).toEqual(['connect', 'open:warming']);
    opened.resolve();
    await expect(started).rejects.toMatchObject({ code: 'HANDOVER_E_STOPPED_BEFORE_READY' });
    await expect(task).resolves.toBe('delivered while opening');
    const result = await worker.stopped;
    expect(broker.calls).toEqual([
      'connect',
      'open:warming',
      'opened',
      'draining:SIGTERM:ok',
      'stopIntake',
      'deregister:abandoned=0',
      'close',
    ]);
    expect(states).toEqual(['created', 'warming', 'stopping', 'stopped']);
    expect(result).toMatchObject({ exitCode: 0, wasReady: false });
    expect(worker.hasBeenReady).toBe(false);
  });

  it('fails the start when a port cannot open, and still drains what it opened', async () => {
    const { worker, broker } = rig({ exit: false });
    broker.openGate = Promise.reject(new Error('no permission to subscribe'));
    await expect(worker.start()).rejects.toThrow('no permission to subscribe');
    const result = await worker.stopped;
    expect(result).toMatchObject({ exitCode: 1, failed: true, reason: 'registration-failed' });
    expect(broker.calls).toEqual([
      'connect',
      'open:warming',
      'draining:registration-failed:failed',
      'stopIntake',
      'deregister:abandoned=0',
      'close',
    ]);
  });

  it('does not announce a failure once it has deregistered', async () => {
    const { worker, broker, proc } = rig();
    worker.onShutdown('explodes', () => {
      proc.emit('uncaughtException', new Error('late'));
    });
    await worker.start();
    proc.emit('SIGTERM');
    const result = await worker.stopped;
    expect(result.failed).toBe(true);
    expect(result.exitCode).toBe(1);
    const deregistered = broker.calls.indexOf('deregister:abandoned=0');
    expect(deregistered).toBeGreaterThan(-1);
    expect(broker.calls.slice(deregistered).filter((c) => c.startsWith('draining'))).toEqual([]);
  });

  it('returns the same promise from every drain() call', async () => {
    const { worker } = rig({ exit: false });
    await worker.start();
    const first = worker.drain();
    expect(worker.drain('again')).toBe(first);
    expect((await first).reason).toBe('api');
  });

  it('cuts off work at gracePeriodMs - shutdownReserveMs, aborts it, names it, and exits 1', async () => {
    const { worker, broker, proc, clock, logger } = rig({
      gracePeriodMs: 9000,
      shutdownReserveMs: 1000,
    });
    await worker.start();
    let abortedAt: number | undefined;
    const task = worker.run(
      (signal) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            abortedAt = clock.now();
            reject(signal.reason);
          });
        }),
      { name: 'job', key: 'order-17' },
    );
    const cutOff = expect(task).rejects.toBeInstanceOf(TaskAbortedError);
    const drainStart = clock.now();
    proc.emit('SIGTERM');
    await clock.advance(7999);
    expect(abortedAt).toBeUndefined();
    await clock.advance(1);
    expect(abortedAt).toBe(drainStart + 8000);
    await cutOff;
    const result = await worker.stopped;
    expect(result.exitCode).toBe(1);
    expect(result.abandoned).toEqual([
      { name: 'job', key: 'order-17', status: 'running', ageMs: 8000 },
    ]);
    expect(broker.summary).toMatchObject({ abandoned: 1, reason: 'SIGTERM', failed: false });
    expect(
      logger.entries.find((e) => e.message === 'task cut off at the drain deadline')?.fields.task,
    ).toMatchObject({
      key: 'order-17',
    });
    expect(proc.exits).toEqual([1]);
  });

  it('fails the start with exit 1 when warm-up exceeds warmupTimeoutMs', async () => {
    const { worker, broker, proc, clock, states } = rig({ warmupTimeoutMs: 1000, exit: false });
    let hookSignal: AbortSignal | undefined;
    worker.warmup('slow', (signal) => {
      hookSignal = signal;
      return new Promise(() => {});
    });
    const started = worker.start();
    const failure = expect(started).rejects.toMatchObject({ code: 'HANDOVER_E_WARMUP_TIMEOUT' });
    await clock.advance(1000);
    await failure;
    expect(hookSignal?.aborted).toBe(true);
    const result = await worker.stopped;
    expect(result).toMatchObject({
      exitCode: 1,
      failed: true,
      reason: 'warm-up-failed',
      wasReady: false,
    });
    expect(states).toEqual(['created', 'warming', 'stopping', 'stopped']);
    expect(broker.calls).toEqual(['connect', 'close']);
    expect(proc.exits).toEqual([]);
  });

  it('aborts warm-up on SIGTERM, never registers, and exits 0', async () => {
    const { worker, broker, proc, states } = rig({ exit: false });
    let hookSignal: AbortSignal | undefined;
    worker.warmup('slow', (signal) => {
      hookSignal = signal;
      return new Promise(() => {});
    });
    const started = worker.start();
    await flush();
    proc.emit('SIGTERM');
    await expect(started).rejects.toMatchObject({ code: 'HANDOVER_E_STOPPED_BEFORE_READY' });
    expect(hookSignal?.aborted).toBe(true);
    const result = await worker.stopped;
    expect(result).toMatchObject({
      exitCode: 0,
      reason: 'SIGTERM',
      wasReady: false,
      failed: false,
    });
    expect(states).toEqual(['created', 'warming', 'stopping', 'stopped']);
    expect(broker.calls).toEqual(['connect', 'close']);
  });

  it('logs and ignores a second SIGTERM', async () => {
    const { worker, proc, clock, logger } = rig();
    await worker.start();
    const gate = deferred();
    void worker.run(() => gate.promise);
    proc.emit('SIGTERM');
    proc.emit('SIGTERM');
    await clock.advance(10);
    expect(worker.state).toBe('draining');
    expect(
      logger.entries.some((e) => e.message === 'signal received while stopping: ignored'),
    ).toBe(true);
    gate.resolve();
    expect((await worker.stopped).exitCode).toBe(0);
  });

  it('exits 130 at once on SIGINT while draining', async () => {
    const { worker, proc, clock } = rig();
    await worker.start();
    void worker.run(() => new Promise(() => {}), { name: 'stuck' }).catch(() => {});
    proc.emit('SIGINT');
    await clock.advance(10);
    proc.emit('SIGINT');
    const result = await worker.stopped;
    expect(result).toMatchObject({ exitCode: 130, forced: true });
    expect(result.abandoned).toHaveLength(1);
    await flush();
    expect(proc.exits).toEqual([130]);
  });

  it('uses 128 + signal number with exitCodeFromSignal', async () => {
    const { worker, proc } = rig({ exitCodeFromSignal: true });
    await worker.start();
    proc.emit('SIGTERM');
    expect((await worker.stopped).exitCode).toBe(143);
  });

  it('turns an uncaught exception into failed, a short drain, and exit 1', async () => {
    const { worker, broker, proc, clock, states } = rig({ failureDrainMs: 500 });
    await worker.start();
    let abortedAt: number | undefined;
    void worker
      .run(
        (signal) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () => {
              abortedAt = clock.now();
              reject(signal.reason);
            }),
          ),
      )
      .catch(() => {});
    const failedAt = clock.now();
    proc.emit('uncaughtException', new Error('boom'));
    expect(worker.state).toBe('failed');
    await clock.advance(500);
    expect(abortedAt).toBe(failedAt + 500);
    const result = await worker.stopped;
    expect(result).toMatchObject({ exitCode: 1, failed: true, reason: 'uncaughtException' });
    expect((result.error as Error).message).toBe('boom');
    expect(broker.calls).toContain('draining:uncaughtException:failed');
    expect(states).toEqual(['created', 'warming', 'ready', 'failed', 'stopped']);
    expect(proc.exits).toEqual([1]);
  });

  it('announces the failure and shortens the deadline when a fatal error hits a drain', async () => {
    const { worker, broker, proc, clock } = rig({ failureDrainMs: 300 });
    await worker.start();
    const stuck = expect(worker.run(() => new Promise(() => {}))).rejects.toBeInstanceOf(
      TaskAbortedError,
    );
    proc.emit('SIGTERM');
    await clock.advance(1000);
    proc.emit('unhandledRejection', new Error('late'));
    expect(worker.state).toBe('failed');
    await clock.advance(300);
    const result = await worker.stopped;
    expect(result).toMatchObject({ exitCode: 1, failed: true, reason: 'SIGTERM' });
    expect(result.drainMs).toBe(1300);
    expect(broker.calls).toContain('draining:unhandledRejection:failed');
    await stuck;
  });

  it('runs every shutdown hook in reverse order even when one fails or hangs, then exits 1', async () => {
    const { worker, proc, clock } = rig({ hookTimeoutMs: 200 });
    const ran: string[] = [];
    worker.onShutdown('a', () => {
      ran.push('a');
    });
    worker.onShutdown('hangs', () => {
      ran.push('hangs');
      return new Promise(() => {});
    });
    worker.onShutdown('throws', () => {
      ran.push('throws');
      throw new Error('nope');
    });
    await worker.start();
    proc.emit('SIGTERM');
    await clock.advance(200);
    const result = await worker.stopped;
    expect(ran).toEqual(['throws', 'hangs', 'a']);
    expect(result.failedHooks).toEqual(['throws', 'hangs']);
    expect(result.exitCode).toBe(1);
  });

  it('keeps serving during the drain delay and closes servers after it', async () => {
    const { worker, broker, clock, proc } = rig({ drainDelayMs: 2000 });
    const server = new RecordingServer(() => clock.now());
    worker.use(server);
    const readiness: boolean[] = [];
    worker.on('readiness', (r) => readiness.push(r.ready));
    await worker.start();
    expect(broker.context?.snapshot().http).toBe('http://10.0.0.5:3000');
    const drainStart = clock.now();
    proc.emit('SIGTERM');
    expect(readiness).toEqual([true, false]);
    await clock.advance(1999);
    expect(server.closeCalledAt).toBeUndefined();
    await clock.advance(1);
    expect(server.closeCalledAt).toBe(drainStart + 2000);
    server.release();
    expect((await worker.stopped).exitCode).toBe(0);
    expect(server.destroyedAtDeadline).toBe(false);
  });

  it("runs adapters' teardown only after the work in flight of every port, then the hooks", async () => {
    const { worker, broker, clock, proc } = rig({ drainDelayMs: 0 });
    const server = new RecordingServer(() => clock.now());
    worker.use(server);
    worker.onShutdown('db', () => {
      server.calls.push('hook:db');
    });
    await worker.start();
    // A task of the broker outlives the server's own connections.
    const gate = deferred();
    const task = broker.context?.run(() => gate.promise);
    proc.emit('SIGTERM');
    await clock.advance(10);
    server.release();
    await clock.advance(1000);
    expect(server.calls).toEqual(['draining:SIGTERM', 'stopIntake', 'closed']);
    gate.resolve();
    await task;
    await worker.stopped;
    expect(server.calls).toEqual([
      'draining:SIGTERM',
      'stopIntake',
      'closed',
      'teardown',
      'hook:db',
    ]);
    expect(broker.calls.indexOf('deregister:abandoned=0')).toBeLessThan(
      broker.calls.indexOf('close'),
    );
  });

  it('bounds a hanging adapter teardown by hookTimeoutMs and counts it as a failed hook', async () => {
    const { worker, clock, proc } = rig({ hookTimeoutMs: 300 });
    const server = new RecordingServer(() => clock.now());
    server.onTeardown = () => new Promise(() => {});
    worker.use(server);
    const ran: string[] = [];
    worker.onShutdown('after', () => {
      ran.push('after');
    });
    await worker.start();
    proc.emit('SIGTERM');
    await clock.advance(10);
    server.release();
    await clock.advance(299);
    expect(ran).toEqual([]);
    await clock.advance(1);
    const result = await worker.stopped;
    expect(ran).toEqual(['after']);
    expect(result.failedHooks).toEqual(['fake-server teardown']);
    expect(result.exitCode).toBe(1);
  });

  it('settles everything on a second SIGINT with exit: false: task signals fire, ports close', async () => {
    const { worker, broker, clock, proc } = rig({ exit: false });
    await worker.start();
    let aborted: unknown;
    const stuck = worker.run(
      (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
            reject(signal.reason);
          }),
        ),
    );
    const cutOff = expect(stuck).rejects.toBeInstanceOf(TaskAbortedError);
    proc.emit('SIGINT');
    await clock.advance(10);
    proc.emit('SIGINT');
    expect((await worker.stopped).exitCode).toBe(130);
    await clock.advance(10);
    expect(aborted).toBeInstanceOf(TaskAbortedError);
    await cutOff;
    expect(broker.calls.slice(-2)).toEqual(['deregister:abandoned=1', 'close']);
    expect(clock.pending).toBe(0);
  });

  it('forces exit 1 at the end of the grace period when the shutdown hangs', async () => {
    const { worker, proc, clock, logger } = rig({
      gracePeriodMs: 3000,
      shutdownReserveMs: 1000,
      hookTimeoutMs: 60_000,
    });
    worker.onShutdown('forever', () => new Promise(() => {}));
    await worker.start();
    const drainStart = clock.now();
    proc.emit('SIGTERM');
    await clock.advance(3000);
    const result = await worker.stopped;
    expect(result).toMatchObject({ exitCode: 1, forced: true });
    expect(clock.now() - drainStart).toBe(3000);
    expect(proc.exits).toEqual([1]);
    expect(logger.entries.some((e) => e.message.startsWith('grace period over'))).toBe(true);
  });

  it('is ready only while every component reports healthy', async () => {
    const { worker, broker } = rig();
    const changes: string[] = [];
    worker.on('readiness', (r) => changes.push(`${r.ready}:${r.reason}`));
    await worker.start();
    broker.context?.setHealth('nats', false, 'disconnected');
    expect(worker.ready).toBe(false);
    broker.context?.setHealth('nats', true);
    expect(worker.ready).toBe(true);
    expect(changes).toEqual(['true:state:ready', 'false:nats: disconnected', 'true:nats: healthy']);
  });

  it('stops straight away when drained before start', async () => {
    const { worker, broker, states } = rig({ exit: false });
    const result = await worker.drain();
    expect(result).toMatchObject({ exitCode: 0, wasReady: false });
    expect(states).toEqual(['created', 'stopped']);
    expect(broker.calls).toEqual([]);
    await expect(worker.start()).rejects.toMatchObject({ code: 'HANDOVER_E_INVALID_STATE' });
  });

  it('refuses adapters and warm-up hooks after start with HANDOVER_E_INVALID_STATE', async () => {
    const { worker } = rig();
    await worker.start();
    expect(() => worker.warmup('late', () => {})).toThrow(
      'cannot add a warm-up hook in state ready (allowed in: created)',
    );
    expect(() => worker.use(new RecordingBroker())).toThrow(HandoverError);
    expect(() => worker.onShutdown('late', () => {})).not.toThrow();
  });

  it('never calls process.exit with exit: false', async () => {
    const { worker, proc } = rig({ exit: false });
    await worker.start();
    proc.emit('SIGTERM');
    expect((await worker.stopped).exitCode).toBe(0);
    expect(proc.exits).toEqual([]);
    expect(proc.listenerCount('SIGTERM')).toBe(0);
  });

  it('does not treat process errors as fatal when it does not own the process', async () => {
    const { worker, proc } = rig({ exit: false });
    await worker.start();
    expect(proc.listenerCount('uncaughtException')).toBe(0);
    expect(proc.listenerCount('SIGTERM')).toBe(1);
  });

  it('binds service, id and instance to every log entry and includes state in lifecycle entries', async () => {
    const { worker, logger } = rig();
    await worker.start();
    const ready = logger.entries.find((e) => e.message === 'ready');
    expect(ready?.fields).toMatchObject({
      service: 'orders',
      id: 'w-1',
      instance: worker.instance,
      state: 'ready',
    });
    expect(worker.instance).toMatch(/^[0-9A-Za-z]{22}$/);
  });
});
