import { describe, expect, it } from 'vitest';
import { HandoverError, TaskAbortedError } from './errors.js';
import { Stats } from './stats.js';
import { type TaskHandle, type TaskInfo, TaskTracker } from './tasks.js';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Whether `tracker.whenIdle()`, called now, has resolved (read it after a microtask). */
function watchIdle(tracker: TaskTracker): () => boolean {
  let idle = false;
  void tracker.whenIdle().then(() => {
    idle = true;
  });
  return () => idle;
}

describe('TaskTracker', () => {
  it('runs no more tasks at once than its concurrency', async () => {
    const tracker = new TaskTracker(2, () => 0);
    let running = 0;
    let peak = 0;
    const gates = Array.from({ length: 5 }, () => deferred());
    const runs = gates.map((gate) =>
      tracker.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await gate.promise;
        running--;
      }),
    );
    await Promise.resolve();
    expect(tracker.size).toBe(5);
    expect(tracker.free).toBe(0);
    for (const gate of gates) gate.resolve();
    await Promise.all(runs);
    expect(peak).toBe(2);
    expect(tracker.size).toBe(0);
    expect(tracker.free).toBe(2);
  });

  it('resolves whenIdle only after queued, running and tracked work is done', async () => {
    const tracker = new TaskTracker(1, () => 0);
    const gate = deferred();
    const task = tracker.run(() => gate.promise);
    const request = tracker.track({ name: 'http:GET /' });
    let idle = false;
    const waiting = tracker.whenIdle().then(() => {
      idle = true;
    });
    gate.resolve();
    await task;
    await Promise.resolve();
    expect(idle).toBe(false);
    request.done();
    request.done();
    await waiting;
    expect(idle).toBe(true);
  });

  it('fires every signal on abortAll and rejects queued tasks with TaskAbortedError', async () => {
    const tracker = new TaskTracker(1, () => 0);
    let runningSignal: AbortSignal | undefined;
    const running = tracker.run(
      (signal) =>
        new Promise((_, reject) => {
          runningSignal = signal;
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
      { name: 'job', key: 'seq-1' },
    );
    let queuedStarted = false;
    const queued = tracker.run(
      () => {
        queuedStarted = true;
      },
      { name: 'job', key: 'seq-2' },
    );
    const handle = tracker.track({ name: 'http' });
    await Promise.resolve();
    const cut = tracker.abortAll('deadline');
    expect(cut.map((t) => [t.key, t.status])).toEqual([
      ['seq-1', 'running'],
      ['seq-2', 'queued'],
      [undefined, 'running'],
    ]);
    await expect(running).rejects.toBeInstanceOf(TaskAbortedError);
    await expect(queued).rejects.toBeInstanceOf(TaskAbortedError);
    expect(queuedStarted).toBe(false);
    expect(runningSignal?.aborted).toBe(true);
    expect(handle.signal.aborted).toBe(true);
  });

  it('rejects a running task at once when cut off, but keeps its slot until it returns', async () => {
    const tracker = new TaskTracker(1, () => 0);
    const gate = deferred();
    let result: unknown;
    const running = tracker.run(async () => {
      await gate.promise;
      return 'late';
    });
    running.then(
      (value) => {
        result = value;
      },
      (error: unknown) => {
        result = error;
      },
    );
    await Promise.resolve();
    tracker.abortAll('deadline');
    await Promise.resolve();
    expect(result).toBeInstanceOf(TaskAbortedError);
    expect(tracker.size).toBe(0);
    expect(tracker.free).toBe(0);
    gate.resolve();
    await new Promise((r) => setImmediate(r));
    expect(tracker.free).toBe(1);
    expect(result).toBeInstanceOf(TaskAbortedError);
  });

  it('wakes whenSlotFree waiters when a task finishes', async () => {
    const tracker = new TaskTracker(1, () => 0);
    const gate = deferred();
    const task = tracker.run(() => gate.promise);
    let woke = false;
    const waiting = tracker.whenSlotFree().then(() => {
      woke = true;
    });
    await Promise.resolve();
    expect(woke).toBe(false);
    gate.resolve();
    await task;
    await waiting;
    expect(woke).toBe(true);
    await expect(tracker.whenSlotFree()).resolves.toBeUndefined();
  });

  it('aborts a tracked handle at the deadline whether its signal was read before or after', () => {
    const tracker = new TaskTracker(1, () => 0);
    const early = tracker.track({ name: 'http:GET /stream' });
    const earlySignal = early.signal;
    const late = tracker.track({ name: 'http:GET /' });
    tracker.abortAll('the drain deadline passed');
    expect(earlySignal.aborted).toBe(true);
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBeInstanceOf(TaskAbortedError);
    expect(early.signal).toBe(earlySignal);
  });

  it('reports the age of each task from the injected clock', async () => {
    let now = 1000;
    const tracker = new TaskTracker(1, () => now);
    const handle = tracker.track({ name: 'http', key: 'r1' });
    now = 1750;
    expect(tracker.list()).toEqual([{ name: 'http', key: 'r1', status: 'running', ageMs: 750 }]);
    handle.done();
  });

  it('keeps the work in flight in start order as pieces finish in any order', () => {
    const tracker = new TaskTracker(1, () => 0);
    const handles = ['a', 'b', 'c', 'd', 'e'].map((key) => tracker.track({ name: 'http', key }));
    const keys = () => tracker.list().map((t) => t.key);
    const [a, b, c, d, e] = handles as [TaskHandle, TaskHandle, TaskHandle, TaskHandle, TaskHandle];
    c.done(); // the middle
    expect(keys()).toEqual(['a', 'b', 'd', 'e']);
    a.done(); // the first
    e.done(); // the last
    expect(keys()).toEqual(['b', 'd']);
    const { done } = tracker.track({ name: 'http', key: 'f' });
    done(); // detached from its handle
    done();
    d.done();
    expect(keys()).toEqual(['b']);
    expect(tracker.size).toBe(1);
    b.done();
    expect(keys()).toEqual([]);
    expect(tracker.size).toBe(0);
    tracker.track({ name: 'http', key: 'g' });
    expect(keys()).toEqual(['g']);
  });

  it('shows a handle in a log line as its name and key only', () => {
    const tracker = new TaskTracker(1, () => 0);
    tracker.track({ name: 'http:GET', key: '/a' });
    const handle = tracker.track({ name: 'http:GET', key: '/b' });
    tracker.track({ name: 'http:GET', key: '/c' });
    expect(JSON.parse(JSON.stringify({ handle }))).toEqual({
      handle: { name: 'http:GET', key: '/b' },
    });
  });

  it('stamps the start of work with the stamp clock and ages it with the clock', () => {
    let now = 1000;
    const tracker = new TaskTracker(
      1,
      () => now,
      undefined,
      () => 400,
    );
    tracker.track({ name: 'http', key: 'r1' });
    now = 1750;
    expect(tracker.list()).toEqual([{ name: 'http', key: 'r1', status: 'running', ageMs: 1350 }]);
  });

  it('refuses new work with HANDOVER_E_NOT_ACCEPTING once closed', async () => {
    const tracker = new TaskTracker(1, () => 0);
    tracker.close('the worker has stopped');
    await expect(tracker.run(() => 1)).rejects.toMatchObject({
      code: 'HANDOVER_E_NOT_ACCEPTING',
      message: 'the worker accepts no new work: the worker has stopped',
    });
    expect(() => tracker.track()).toThrow(HandoverError);
  });

  it('passes a handler error through unchanged', async () => {
    const tracker = new TaskTracker(1, () => 0);
    const boom = new Error('boom');
    await expect(
      tracker.run(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(tracker.size).toBe(0);
  });

  describe('work counted by a port (countWork)', () => {
    /** A port's table: `pieces` is what it counts, `watched` whether the worker watches it. */
    function portTable(list: (now: number) => TaskInfo[] = () => []) {
      const table = {
        pieces: 0,
        watched: false,
        count: () => table.pieces,
        list: (now: number) => (table.pieces > 0 ? list(now) : []),
        watch: () => {
          table.watched = true;
        },
      };
      return table;
    }

    it('counts what the table counts, and a reported end wakes the drain once it counts none', async () => {
      const tracker = new TaskTracker(1, () => 0);
      const table = portTable();
      const work = tracker.countWork('http', table);
      await tracker.whenIdle();
      table.pieces = 2;
      expect(tracker.size).toBe(2);
      const idle = watchIdle(tracker);
      table.pieces = 1;
      work.end();
      await Promise.resolve();
      expect(idle()).toBe(false);
      table.pieces = 0;
      work.end();
      await Promise.resolve();
      expect(idle()).toBe(true);
      expect(tracker.size).toBe(0);
    });

    it('waits for tasks and every table alike: whichever ends last wakes the waiters', async () => {
      const tracker = new TaskTracker(1, () => 0);
      const a = portTable();
      const b = portTable();
      const workA = tracker.countWork('http', a);
      const workB = tracker.countWork('http', b);
      const handle = tracker.track({ name: 'job' });
      a.pieces = 1;
      b.pieces = 1;
      const idle = watchIdle(tracker);
      const ends = [
        () => {
          a.pieces = 0;
          workA.end();
        },
        () => handle.done(),
      ];
      for (const end of ends) {
        end();
        await Promise.resolve();
        expect(idle()).toBe(false);
      }
      b.pieces = 0;
      workB.end();
      await Promise.resolve();
      expect(idle()).toBe(true);
    });

    it('watches its tables from the first wait for idle on, not before', async () => {
      const tracker = new TaskTracker(1, () => 0);
      const table = portTable();
      tracker.countWork('http', table);
      expect(tracker.size).toBe(0);
      expect(tracker.list()).toEqual([]);
      expect(table.watched).toBe(false);
      await tracker.whenIdle();
      expect(table.watched).toBe(true);
    });

    it('watches its tables while task metrics are on: from the start, or from when they are enabled', () => {
      const on = new Stats();
      on.enable();
      const early = portTable();
      new TaskTracker(1, () => 0, on).countWork('http', early);
      expect(early.watched).toBe(true);
      const off = new Stats();
      const late = portTable();
      new TaskTracker(1, () => 0, off).countWork('http', late);
      expect(late.watched).toBe(false);
      off.enable();
      expect(late.watched).toBe(true);
    });

    it('lists what the table lists among tasks, oldest first', () => {
      let now = 1000;
      const tracker = new TaskTracker(1, () => now);
      const table = portTable((at: number) => [
        { name: 'http:GET', key: '/a', status: 'running' as const, ageMs: at - 200 },
      ]);
      tracker.countWork('http', table);
      tracker.track({ name: 'job', key: 'j' });
      expect(tracker.list().map((t) => t.key)).toEqual(['j']);
      table.pieces = 1;
      now = 1500;
      expect(tracker.list()).toEqual([
        { name: 'http:GET', key: '/a', status: 'running', ageMs: 1300 },
        { name: 'job', key: 'j', status: 'running', ageMs: 500 },
      ]);
    });

    it('stamps starts on the stamp clock, and times from them when stats are on', () => {
      let now = 1000;
      const stats = new Stats();
      const tracker = new TaskTracker(
        1,
        () => now,
        stats,
        () => 900,
      );
      const work = tracker.countWork('http', portTable());
      expect(work.stamp()).toBe(900);
      now = 1150;
      work.end(900);
      // Off: nothing timed.
      expect(stats.snapshot().kinds).toEqual([]);
      stats.enable();
      work.end(900);
      work.end();
      const http = stats.snapshot().kinds.find((k) => k.kind === 'http');
      // One timed (0.25 s); the one ended without a start (a probe) is not.
      expect([http?.count, http?.sum, http?.outcomes.ok]).toEqual([1, 0.25, 1]);
    });

    it('reports what the table lists as cut off at the deadline, and times it as cut_off', () => {
      let now = 0;
      const stats = new Stats();
      stats.enable();
      const tracker = new TaskTracker(1, () => now, stats);
      const table = portTable(() => [
        { name: 'http:GET', key: '/sse', status: 'running', ageMs: 5 },
      ]);
      const work = tracker.countWork('http', table);
      table.pieces = 1;
      const startedAt = work.stamp();
      now = 250;
      expect(tracker.abortAll('deadline').map((t) => t.key)).toEqual(['/sse']);
      table.pieces = 0;
      work.end(startedAt);
      const http = stats.snapshot().kinds.find((k) => k.kind === 'http');
      expect(http?.outcomes).toEqual({ ok: 0, error: 0, cut_off: 1 });
      expect(http?.sum).toBe(0.25);
    });
  });
});
