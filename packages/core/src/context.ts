import type { Lifecycle } from './lifecycle.js';
import type { PortContext } from './ports.js';
import type { Readiness } from './readiness.js';
import type { Stats, WorkerStats } from './stats.js';
import type {
  TaskFn,
  TaskHandle,
  TaskInfo,
  TaskMeta,
  TaskTracker,
  WorkCounter,
  WorkTable,
} from './tasks.js';
import type { StopResult, Worker, WorkerSnapshot } from './types.js';

/** What a port context is made of: the worker and the parts only adapters may touch. */
export interface PortContextParts {
  readonly worker: Worker;
  readonly tasks: TaskTracker;
  readonly lifecycle: Lifecycle;
  readonly readiness: Readiness;
  readonly snapshot: () => WorkerSnapshot;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stats: Stats;
}

/**
 * The narrow view of a worker given to one port. A class (not an object literal with getters):
 * the HTTP adapter calls `track()` once per request.
 */
class Context implements PortContext {
  readonly #parts: PortContextParts;

  constructor(parts: PortContextParts) {
    this.#parts = parts;
  }

  get service(): string {
    return this.#parts.worker.service;
  }
  get id(): string {
    return this.#parts.worker.id;
  }
  get instance(): string {
    return this.#parts.worker.instance;
  }
  get version(): string {
    return this.#parts.worker.version;
  }
  get identity(): Worker['identity'] {
    return this.#parts.worker.identity;
  }
  get metadata(): Readonly<Record<string, string>> {
    return this.#parts.worker.metadata;
  }
  get concurrency(): number {
    return this.#parts.worker.concurrency;
  }
  get logger(): Worker['logger'] {
    return this.#parts.worker.logger;
  }
  get timing(): Worker['timing'] {
    return this.#parts.worker.timing;
  }
  get env(): Readonly<Record<string, string | undefined>> {
    return this.#parts.env;
  }
  get ready(): boolean {
    return this.#parts.readiness.ready;
  }
  waitingFor(): Readonly<Record<string, string>> {
    return this.#parts.readiness.waitingFor();
  }
  get state(): Worker['state'] {
    return this.#parts.lifecycle.state;
  }
  get stopSignal(): AbortSignal {
    return this.#parts.lifecycle.stopSignal;
  }
  get stop(): { readonly reason: string; readonly at: number } | undefined {
    return this.#parts.lifecycle.stop;
  }
  get deregistered(): boolean {
    return this.#parts.lifecycle.deregistered;
  }
  get inflight(): number {
    return this.#parts.tasks.size;
  }
  get freeSlots(): number {
    return this.#parts.tasks.free;
  }
  get stopped(): Promise<StopResult> {
    return this.#parts.worker.stopped;
  }
  whenSlotFree(): Promise<void> {
    return this.#parts.tasks.whenSlotFree();
  }
  run<T>(fn: TaskFn<T>, meta?: TaskMeta): Promise<T> {
    return this.#parts.tasks.run(fn, meta);
  }
  track(meta?: TaskMeta): TaskHandle {
    return this.#parts.tasks.track(meta);
  }
  countWork(kind: string, table: WorkTable): WorkCounter {
    return this.#parts.tasks.countWork(kind, table);
  }
  tasks(): TaskInfo[] {
    return this.#parts.tasks.list();
  }
  setHealth(component: string, healthy: boolean, detail?: string): void {
    this.#parts.readiness.setHealth(component, healthy, detail);
  }
  health(): Readonly<Record<string, boolean>> {
    return this.#parts.readiness.components();
  }
  snapshot(): WorkerSnapshot {
    return this.#parts.snapshot();
  }
  drain(reason: string): Promise<StopResult> {
    return this.#parts.worker.drain(reason);
  }
  count(name: string, labels?: Readonly<Record<string, string>>, by?: number): void {
    this.#parts.stats.count(name, labels, by);
  }
  enableStats(): void {
    this.#parts.stats.enable();
  }
  stats(): WorkerStats {
    return this.#parts.stats.snapshot();
  }
}

/** The context handed to a port when it is attached. */
export function createPortContext(parts: PortContextParts): PortContext {
  return new Context(parts);
}
