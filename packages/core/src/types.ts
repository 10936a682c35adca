import type { Timing } from './config.js';
import type { HookFn, HookOptions } from './hooks.js';
import type { Logger } from './logger.js';
import type { WorkerIdentity } from './options.js';
import type { Port, PortContext } from './ports.js';
import type { StateChange, WorkerState } from './state.js';
import type { TaskFn, TaskInfo, TaskMeta } from './tasks.js';

/** How a worker stopped; {@link Worker.stopped} resolves to it. */
export interface StopResult {
  /** The process exit code the worker uses (or would use, with `exit: false`). */
  readonly exitCode: number;
  /** What started the stop: `SIGTERM`, `api`, `uncaughtException`, `warm-up-failed`, ... */
  readonly reason: string;
  /** Whether the worker failed (fatal error, failed warm-up or registration). */
  readonly failed: boolean;
  /** Whether it reached `ready` before stopping. */
  readonly wasReady: boolean;
  /** Milliseconds from the start of the stop to `stopped`. */
  readonly drainMs: number;
  /** Work cut off at the deadline. */
  readonly abandoned: readonly TaskInfo[];
  /** Shutdown hooks that failed or timed out. */
  readonly failedHooks: readonly string[];
  /** True when the grace period ran out before the shutdown finished. */
  readonly forced: boolean;
  /** The error behind a failure, if any. */
  readonly error?: unknown;
}

/** The worker's public state, as an adapter publishes it (the registry entry). */
export interface WorkerSnapshot {
  readonly service: string;
  readonly id: string;
  readonly instance: string;
  readonly version: string;
  readonly hostname: string;
  readonly addresses: readonly string[];
  readonly pid: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly state: WorkerState;
  /** Epoch ms of `start()`. */
  readonly startedAt: number | undefined;
  /** Epoch ms at which warm-up was done and the worker began to announce itself. */
  readonly readyAt: number | undefined;
  /** Tasks queued or running plus tracked requests. */
  readonly inflight: number;
  readonly concurrency: number;
  /** The URL of the first attached server that knows its own, for the registry's `http`. */
  readonly http: string | undefined;
}

/** A change of {@link Worker.ready}. */
export interface ReadinessChange {
  readonly ready: boolean;
  /** Why: a state change (`state:draining`) or a component (`nats: disconnected`). */
  readonly reason: string;
}

/** Events of a worker and their payloads. */
export type WorkerEvents = {
  state: StateChange;
  readiness: ReadinessChange;
  stopped: StopResult;
};

/** Who a worker is and how it is set up: what both {@link Worker} and a port's context show. */
export interface WorkerFacts {
  readonly service: string;
  readonly id: string;
  /** A fresh random id per process start (NUID format), the micro protocol's service id. */
  readonly instance: string;
  readonly version: string;
  readonly identity: WorkerIdentity;
  readonly metadata: Readonly<Record<string, string>>;
  readonly concurrency: number;
  /** The worker's logger (with `service`, `id`, `instance` bound). */
  readonly logger: Logger;
  /** The resolved timing budget (final once `start()` was called). */
  readonly timing: Timing;
  readonly state: WorkerState;
  /** True in state `ready` while every component (a broker connection) reports healthy. */
  readonly ready: boolean;
  /**
   * What keeps the worker from being ready now, by component: a warm-up hook still running, a
   * broker it is waiting for (`{ nats: 'connecting to nats://10.0.0.4:4222: ECONNREFUSED' }`).
   * Empty when nothing does. The probes show it.
   */
  waitingFor(): Readonly<Record<string, string>>;
  /** Tasks queued or running plus tracked requests. */
  readonly inflight: number;
  /** Resolves once the worker has stopped, with the exit code it uses. */
  readonly stopped: Promise<StopResult>;
}

/**
 * A worker: see {@link createWorker}. This is what services use; adapters get a narrower
 * view of their own ({@link PortContext}) when {@link Worker.use} attaches them.
 */
export interface Worker extends WorkerFacts {
  /** True once the worker has been ready; stays true while it drains (the startup probe). */
  readonly hasBeenReady: boolean;
  /**
   * Fires as soon as the worker begins to stop (a signal, `drain()`, a failure, or a stop
   * during warm-up): a loop that feeds `run()` itself stops taking new work when it fires.
   * `run()` still accepts work until the drain is over, so that work already delivered runs.
   */
  readonly stopSignal: AbortSignal;

  /** Adds a warm-up hook; hooks run in order before the worker announces readiness. */
  warmup(name: string, fn: HookFn, options?: HookOptions): this;
  /** Adds a shutdown hook; hooks run after the drain, in reverse order. */
  onShutdown(name: string, fn: HookFn, options?: HookOptions): this;
  /** Attaches an adapter (a broker, a server or an extension). Call before `start()`. */
  use(port: Port): this;
  /**
   * Warms up, connects the brokers, then announces readiness. Resolves when ready. When the
   * worker stops before it is ready it rejects with `HANDOVER_E_STOPPED_BEFORE_READY` or the
   * warm-up error; with `exit: true` the process exits instead and the promise stays pending.
   */
  start(): Promise<void>;
  /** Starts the drain (idempotent: every call returns the same promise). */
  drain(reason?: string): Promise<StopResult>;
  /** Runs a task within the concurrency limit; its signal fires at the drain deadline. */
  run<T>(fn: TaskFn<T>, meta?: TaskMeta): Promise<T>;
  /** The work in flight now. */
  tasks(): TaskInfo[];
  /** Adds an event listener; returns a function that removes it. */
  on<E extends keyof WorkerEvents & string>(
    event: E,
    listener: (value: WorkerEvents[E]) => void,
  ): () => void;
}
