import { HandoverError, TaskAbortedError } from './errors.js';
import type { Stats, TaskOutcome } from './stats.js';

/** What a piece of work is, for logs (notably the list of tasks cut off at the deadline). */
export interface TaskMeta {
  /** The kind of work, e.g. `nats:orders.tasks` or `http:GET /orders`. @default 'task' */
  readonly name?: string;
  /** This piece of work's own id (a request id, a stream sequence). */
  readonly key?: string;
}

/** A task as reported in logs and drain summaries. */
export interface TaskInfo {
  readonly name: string;
  readonly key: string | undefined;
  /** `queued`: waiting for a concurrency slot; `running`: started. */
  readonly status: 'queued' | 'running';
  /** Milliseconds since the task was submitted. */
  readonly ageMs: number;
}

/** Tracked work that does not go through the queue (a stream, a socket): call `done()` after. */
export interface TaskHandle {
  /** Fires when the work must stop: the drain deadline passed or the worker failed. */
  readonly signal: AbortSignal;
  /** Marks the work finished; calling it again does nothing. */
  done(): void;
}

/**
 * A port's own table of its work in flight (an HTTP server's requests, on its connections), so
 * that the worker need not hold a record per piece: the worker asks it how much is in flight and
 * what, only when it needs to know (`worker.inflight`, the registry's heartbeat, `worker.tasks()`,
 * the log of work cut off at the deadline, a drain waiting for the last piece). Pass it to
 * `PortContext.countWork()`. Unlike `track()`, the worker keeps asking once it has drained: what
 * still arrives is served, so it is counted and listed too.
 */
export interface WorkTable {
  /** How many pieces of work are in flight now. */
  count(): number;
  /** The pieces of work in flight now; `now` is the worker's clock, for their ages. */
  list(now: number): TaskInfo[];
  /**
   * From now on, report every end as it happens ({@link WorkCounter.end}) and keep `count()`
   * cheap: a drain waits for the last piece, or the task metrics time each. Until then a port may
   * notice an end late (an HTTP request's at its connection's next request, or when asked), which
   * spares it a listener per piece. Called once at most, possibly from within `countWork()`.
   */
  watch(): void;
}

/** The worker's side of a {@link WorkTable}: a clock for starts, and where ends are reported. */
export interface WorkCounter {
  /** When a piece of work starts, on the worker's clock. */
  stamp(): number;
  /**
   * A piece of work ended (required for every end once the table is watched, harmless before).
   * With `startedAt` (from {@link stamp}), it is timed in the task metrics when a metrics
   * exporter enabled them, as `ok`, or `cut_off` after the drain deadline; without, it is not
   * timed (a probe, which is not the worker's work). The table must already count it off.
   */
  end(startedAt?: number): void;
}

/** A unit of work; `signal` fires at the drain deadline. */
export type TaskFn<T> = (signal: AbortSignal) => T | PromiseLike<T>;

const noop = (): void => {};

/**
 * One piece of work in flight, linked into its tracker's list: adding and removing is a few
 * field writes, where a Set hashes every new object (both cost 250 ns or so a request). For
 * tracked work the record is also its handle: one object and one closure per request.
 * A class: an object literal with a getter costs V8 far more per call.
 */
class TaskRecord implements TaskHandle {
  readonly name: string;
  readonly key: string | undefined;
  readonly submittedAt: number;
  readonly signal: AbortSignal;
  /** Tracked work: removes it; bound, as callers pass it around (`res.on('close', done)`). */
  readonly done: () => void;
  status: 'queued' | 'running';
  /** Rejects the caller's promise at once when the task is cut off (queued or running). */
  cutOff: ((reason: unknown) => void) | undefined = undefined;
  /** Its signal fired at the deadline: however it ends now, it was cut off. */
  aborted = false;
  /** In the tracker's list (false once removed: a record is never added back). */
  listed = true;
  previous: TaskRecord | undefined = undefined;
  next: TaskRecord | undefined = undefined;

  constructor(
    meta: TaskMeta,
    status: TaskRecord['status'],
    submittedAt: number,
    signal: AbortSignal,
    remove: ((record: TaskRecord, outcome: TaskOutcome) => void) | undefined,
  ) {
    this.name = meta.name ?? 'task';
    this.key = meta.key;
    this.status = status;
    this.submittedAt = submittedAt;
    this.signal = signal;
    this.done = remove === undefined ? noop : () => remove(this, 'ok');
  }

  /** What a log line shows of a handle (not the list it is linked into). */
  toJSON(): { name: string; key: string | undefined } {
    return { name: this.name, key: this.key };
  }
}

/** Times one finished piece of work in the task metrics (when they are on). */
type TimeWork = (name: string, outcome: TaskOutcome, startedAt: number) => void;

/** The worker's side of a port's {@link WorkTable}. */
class CountedWork implements WorkCounter {
  /** The drain deadline passed: what ends now was cut off. */
  aborted = false;
  readonly table: WorkTable;
  #watched = false;
  /** For the task metrics, which go by kind: `http:`. */
  readonly #name: string;
  readonly #stamp: () => number;
  readonly #time: TimeWork;
  readonly #settled: () => void;

  constructor(
    kind: string,
    table: WorkTable,
    stamp: () => number,
    time: TimeWork,
    settled: () => void,
  ) {
    this.#name = `${kind}:`;
    this.table = table;
    this.#stamp = stamp;
    this.#time = time;
    this.#settled = settled;
  }

  stamp(): number {
    return this.#stamp();
  }

  end(startedAt?: number): void {
    if (startedAt !== undefined) this.#time(this.#name, this.aborted ? 'cut_off' : 'ok', startedAt);
    this.#settled();
  }

  /** Asks the port for every end as it happens, from now on. */
  watch(): void {
    if (this.#watched) return;
    this.#watched = true;
    this.table.watch();
  }
}

/**
 * Every piece of in-flight work of a worker: tasks run in a first-in first-out queue with a
 * concurrency limit, tracked work that is only counted, and work that ports count in tables of
 * their own (HTTP requests: see {@link WorkCounter}). All are waited for by the drain. Tasks
 * and tracked work get one AbortSignal, which fires at the drain deadline (every task is cut
 * off at the same moment, so one controller serves them all: no allocation per task).
 */
export class TaskTracker {
  readonly #concurrency: number;
  readonly #deadline = new AbortController();
  /** Tasks started and not finished. */
  #running = 0;
  /**
   * Starts waiting for a slot, oldest first: each starts its task and says so, or says it was
   * cut off while it waited.
   */
  #waiting: (() => boolean)[] = [];
  /** Every task queued, running or tracked, oldest first. */
  #first: TaskRecord | undefined;
  #last: TaskRecord | undefined;
  #size = 0;
  readonly #now: () => number;
  /** Timestamps the start of work: `now`, or the same clock read without a wrapper. */
  readonly #stamp: () => number;
  readonly #stats: Stats | undefined;
  #idleWaiters: (() => void)[] = [];
  /** Queued plus running tasks, released before the caller sees the outcome. */
  #slotsHeld = 0;
  #slotWaiters: (() => void)[] = [];
  #closedReason: string | undefined;
  /** Work counted by ports in tables of their own. */
  readonly #counted: CountedWork[] = [];

  /**
   * @param now the worker's clock, for ages and durations.
   * @param stamp when work starts: `now` unless cheaper (`Date.now` itself for the system clock).
   */
  constructor(concurrency: number, now: () => number, stats?: Stats, stamp = now) {
    this.#concurrency = concurrency;
    this.#now = now;
    this.#stats = stats;
    this.#stamp = stamp;
  }

  /** Tasks queued or running, plus tracked and counted work. */
  get size(): number {
    let size = this.#size;
    for (const counted of this.#counted) size += counted.table.count();
    return size;
  }

  /** Maximum tasks run at once. */
  get concurrency(): number {
    return this.#concurrency;
  }

  /** Concurrency slots neither running nor claimed by a queued task. */
  get free(): number {
    return Math.max(0, this.#concurrency - this.#slotsHeld);
  }

  /**
   * Runs `fn` when a slot is free. When the task is cut off, the returned promise rejects at
   * once with a {@link TaskAbortedError}, whether it was queued (then `fn` never runs) or
   * running (then `fn` keeps its slot until it returns, and its result is dropped).
   */
  run<T>(fn: TaskFn<T>, meta: TaskMeta = {}): Promise<T> {
    if (this.#closedReason !== undefined) return Promise.reject(this.#notAccepting());
    const record = this.#add(meta, 'queued');
    this.#slotsHeld++;
    return new Promise<T>((resolve, reject) => {
      record.cutOff = reject;
      const start = (): boolean => {
        // Cut off while it waited: it never runs.
        if (!record.listed) return false;
        record.status = 'running';
        const ok = (value: T): void => {
          this.#finished();
          this.#remove(record, 'ok');
          resolve(value);
        };
        const failed = (error: unknown): void => {
          this.#finished();
          this.#remove(record, error instanceof TaskAbortedError ? 'cut_off' : 'error');
          reject(error);
        };
        try {
          Promise.resolve(fn(this.#deadline.signal)).then(ok, failed);
        } catch (error) {
          failed(error);
        }
        return true;
      };
      if (this.#running < this.#concurrency) {
        this.#running++;
        start();
      } else this.#waiting.push(start);
    });
  }

  /** A task ended: its slot goes to the next one waiting (skipping those cut off meanwhile). */
  #finished(): void {
    this.#releaseSlot();
    for (;;) {
      const next = this.#waiting.shift();
      if (next === undefined) {
        this.#running--;
        return;
      }
      if (next()) return;
      this.#releaseSlot();
    }
  }

  /** Resolves as soon as a concurrency slot is free (at once if one is). */
  whenSlotFree(): Promise<void> {
    if (this.free > 0) return Promise.resolve();
    return new Promise((resolve) => this.#slotWaiters.push(resolve));
  }

  /** Counts work that runs outside the queue until `done()` is called. */
  track(meta: TaskMeta = {}): TaskHandle {
    if (this.#closedReason !== undefined) throw this.#notAccepting();
    return this.#add(meta, 'running', this.#removeRecord);
  }

  /**
   * Counts work that a port keeps in a table of its own: cheaper than a {@link track} handle
   * per piece. `kind` names it in the task metrics (`http`); while they are on, the table is
   * watched (every end is reported, to be timed).
   */
  countWork(kind: string, table: WorkTable): WorkCounter {
    const counted = new CountedWork(kind, table, this.#stamp, this.#time, this.#settled);
    this.#counted.push(counted);
    this.#stats?.whenEnabled(() => counted.watch());
    return counted;
  }

  /**
   * Resolves when no task is queued, running, tracked or counted. From the first call on, ports
   * report every end of their counted work as it happens.
   */
  whenIdle(): Promise<void> {
    for (const counted of this.#counted) counted.watch();
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** The work in flight now, oldest first. */
  list(): TaskInfo[] {
    const now = this.#now();
    const list: TaskInfo[] = this.#records().map((r) => ({
      name: r.name,
      key: r.key,
      status: r.status,
      ageMs: now - r.submittedAt,
    }));
    const before = list.length;
    for (const counted of this.#counted) list.push(...counted.table.list(now));
    if (list.length === before) return list;
    // Stable: the port's entries go among the tasks by age, equal ages keeping their order.
    return list.sort((a, b) => b.ageMs - a.ageMs);
  }

  /** Refuses new work from now on; `reason` goes into the error of a refused submission. */
  close(reason: string): void {
    this.#closedReason ??= reason;
  }

  /** Fires every task's signal with a {@link TaskAbortedError}; returns what was cut off. */
  abortAll(message: string): TaskInfo[] {
    const cut = this.list();
    const reason = new TaskAbortedError(message);
    this.#deadline.abort(reason);
    for (const counted of this.#counted) counted.aborted = true;
    for (const record of this.#records()) {
      record.aborted = true;
      if (record.cutOff) {
        this.#remove(record, 'cut_off');
        record.cutOff(reason);
      }
    }
    return cut;
  }

  #add(
    meta: TaskMeta,
    status: TaskRecord['status'],
    remove?: (record: TaskRecord, outcome: TaskOutcome) => void,
  ): TaskRecord {
    const record = new TaskRecord(meta, status, this.#stamp(), this.#deadline.signal, remove);
    const last = this.#last;
    record.previous = last;
    if (last === undefined) this.#first = record;
    else last.next = record;
    this.#last = record;
    this.#size++;
    return record;
  }

  /** Takes `record` out of the list; false when it was not in it (any more). */
  #unlink(record: TaskRecord): boolean {
    if (!record.listed) return false;
    record.listed = false;
    const { previous, next } = record;
    if (previous === undefined) this.#first = next;
    else previous.next = next;
    if (next === undefined) this.#last = previous;
    else next.previous = previous;
    record.previous = undefined;
    record.next = undefined;
    this.#size--;
    return true;
  }

  /** The records in flight, oldest first, as an array (safe to remove from while iterating). */
  #records(): TaskRecord[] {
    const records: TaskRecord[] = [];
    for (let r = this.#first; r !== undefined; r = r.next) records.push(r);
    return records;
  }

  #releaseSlot(): void {
    this.#slotsHeld--;
    const waiters = this.#slotWaiters;
    if (waiters.length === 0) return;
    this.#slotWaiters = [];
    for (const resolve of waiters) resolve();
  }

  readonly #removeRecord = (record: TaskRecord, outcome: TaskOutcome): void =>
    this.#remove(record, outcome);

  #remove(record: TaskRecord, outcome: TaskOutcome): void {
    if (!this.#unlink(record)) return;
    this.#time(record.name, record.aborted ? 'cut_off' : outcome, record.submittedAt);
    if (this.#size === 0) this.#settled();
  }

  readonly #time: TimeWork = (name, outcome, startedAt) => {
    if (this.#stats?.enabled) this.#stats.task(name, outcome, (this.#now() - startedAt) / 1000);
  };

  /** Some work ended: wakes who waits for none to be left, if none is. */
  readonly #settled = (): void => {
    if (this.#idleWaiters.length === 0 || this.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  #notAccepting(): HandoverError {
    return new HandoverError(
      'HANDOVER_E_NOT_ACCEPTING',
      `the worker accepts no new work: ${this.#closedReason}`,
    );
  }
}
