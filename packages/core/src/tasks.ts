import PQueue from 'p-queue';
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

/** Tracked work that does not go through the queue (an HTTP request): call `done()` when finished. */
export interface TaskHandle {
  /** Fires when the work must stop: the drain deadline passed or the worker failed. */
  readonly signal: AbortSignal;
  /** Marks the work finished; calling it again does nothing. */
  done(): void;
}

/** A unit of work; `signal` fires at the drain deadline. */
export type TaskFn<T> = (signal: AbortSignal) => T | PromiseLike<T>;

interface TaskRecord {
  readonly name: string;
  readonly key: string | undefined;
  readonly submittedAt: number;
  /** Made on first use: creating one costs microseconds, and most tracked requests never need it. */
  controller: AbortController | undefined;
  status: 'queued' | 'running';
  /** Rejects the caller's promise at once when the task is cut off (queued or running). */
  cutOff?: (reason: unknown) => void;
  /** Its signal fired at the deadline: however it ends now, it was cut off. */
  aborted?: boolean;
}

function signalOf(record: TaskRecord): AbortSignal {
  record.controller ??= new AbortController();
  return record.controller.signal;
}

/** A class: an object literal with a getter costs V8 far more per call (one per HTTP request). */
class TrackedHandle implements TaskHandle {
  readonly #record: TaskRecord;
  readonly done: () => void;

  constructor(record: TaskRecord, remove: (record: TaskRecord, outcome: TaskOutcome) => void) {
    this.#record = record;
    this.done = () => remove(record, 'ok');
  }

  get signal(): AbortSignal {
    return signalOf(this.#record);
  }
}

/**
 * Every piece of in-flight work of a worker: tasks run through a p-queue with a concurrency
 * limit, and tracked work (HTTP requests) that is only counted. Both get an AbortSignal that
 * fires at the drain deadline, and both are waited for by the drain.
 */
export class TaskTracker {
  readonly #queue: PQueue;
  readonly #records = new Set<TaskRecord>();
  readonly #now: () => number;
  readonly #stats: Stats | undefined;
  #idleWaiters: (() => void)[] = [];
  /** Queued plus running tasks, released before the caller sees the outcome. */
  #slotsHeld = 0;
  #slotWaiters: (() => void)[] = [];
  #closedReason: string | undefined;

  constructor(concurrency: number, now: () => number, stats?: Stats) {
    this.#queue = new PQueue({ concurrency });
    this.#now = now;
    this.#stats = stats;
  }

  /** Tasks queued or running, plus tracked work. */
  get size(): number {
    return this.#records.size;
  }

  /** Maximum tasks run at once. */
  get concurrency(): number {
    return this.#queue.concurrency;
  }

  /** Concurrency slots neither running nor claimed by a queued task. */
  get free(): number {
    return Math.max(0, this.#queue.concurrency - this.#slotsHeld);
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
      // Abort handling stays here rather than in p-queue's `signal` option, which costs a
      // listener and a Promise.race per task.
      void this.#queue.add(async () => {
        if (!this.#records.has(record)) {
          this.#releaseSlot();
          return;
        }
        record.status = 'running';
        try {
          const value = await fn(signalOf(record));
          this.#releaseSlot();
          this.#remove(record, 'ok');
          resolve(value);
        } catch (error) {
          this.#releaseSlot();
          this.#remove(record, error instanceof TaskAbortedError ? 'cut_off' : 'error');
          reject(error);
        }
      });
    });
  }

  /** Resolves as soon as a concurrency slot is free (at once if one is). */
  whenSlotFree(): Promise<void> {
    if (this.free > 0) return Promise.resolve();
    return new Promise((resolve) => this.#slotWaiters.push(resolve));
  }

  /** Counts work that runs outside the queue until `done()` is called. */
  track(meta: TaskMeta = {}): TaskHandle {
    if (this.#closedReason !== undefined) throw this.#notAccepting();
    return new TrackedHandle(this.#add(meta, 'running'), this.#removeRecord);
  }

  /** Resolves when no task is queued, running or tracked. */
  whenIdle(): Promise<void> {
    if (this.#records.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** The work in flight now. */
  list(): TaskInfo[] {
    const now = this.#now();
    return [...this.#records].map((r) => ({
      name: r.name,
      key: r.key,
      status: r.status,
      ageMs: now - r.submittedAt,
    }));
  }

  /** Refuses new work from now on; `reason` goes into the error of a refused submission. */
  close(reason: string): void {
    this.#closedReason ??= reason;
  }

  /** Fires every task's signal with a {@link TaskAbortedError}; returns what was cut off. */
  abortAll(message: string): TaskInfo[] {
    const cut = this.list();
    for (const record of [...this.#records]) {
      const reason = new TaskAbortedError(message);
      record.aborted = true;
      record.controller ??= new AbortController();
      record.controller.abort(reason);
      if (record.cutOff) {
        this.#remove(record, 'cut_off');
        record.cutOff(reason);
      }
    }
    return cut;
  }

  #add(meta: TaskMeta, status: TaskRecord['status']): TaskRecord {
    const record: TaskRecord = {
      name: meta.name ?? 'task',
      key: meta.key,
      submittedAt: this.#now(),
      controller: undefined,
      status,
    };
    this.#records.add(record);
    return record;
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
    if (!this.#records.delete(record)) return;
    if (this.#stats?.enabled) {
      const seconds = (this.#now() - record.submittedAt) / 1000;
      this.#stats.task(record.name, record.aborted ? 'cut_off' : outcome, seconds);
    }
    if (this.#records.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #notAccepting(): HandoverError {
    return new HandoverError(
      'HANDOVER_E_NOT_ACCEPTING',
      `the worker accepts no new work: ${this.#closedReason}`,
    );
  }
}
