import type { WorkerStats } from './stats.js';
import type { TaskFn, TaskHandle, TaskInfo, TaskMeta, WorkCounter, WorkTable } from './tasks.js';
import type { StopResult, WorkerFacts, WorkerSnapshot } from './types.js';

/** Why the drain started, as passed to {@link Port.draining}. */
export interface DrainNotice {
  /** `SIGTERM`, `SIGINT`, `drain-endpoint`, `api`, `uncaughtException`, ... */
  readonly reason: string;
  /** True when the worker failed (fatal error); a broker announces `failed`, not `draining`. */
  readonly failed: boolean;
}

/** What the drain did, as passed to {@link Port.deregister}. */
export interface DrainSummary extends DrainNotice {
  /** Milliseconds from the start of the drain to deregistration. */
  readonly drainMs: number;
  /** Tasks cut off at the deadline (normally 0). */
  readonly abandoned: number;
}

/**
 * What a port is, which decides when it stops taking work:
 *
 * - `broker`: takes work from a broker (NATS); its intake closes the moment the drain starts,
 *   since the broker stops routing to it at once;
 * - `server`: takes work over connections (HTTP); it keeps serving during the drain delay, so
 *   that load balancers catch up, then stops accepting;
 * - `extension`: takes no work of its own and only follows the lifecycle (the preStop drain
 *   endpoint, metrics).
 */
export type PortKind = 'broker' | 'server' | 'extension';

/**
 * What the worker gives a port: the narrow view of the worker an adapter needs, and nothing a
 * user would call. Adapters get it in {@link Port.attach}; users never see it.
 */
export interface PortContext extends WorkerFacts {
  /** The environment the worker reads its variables from (`process.env` unless given). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Fires the moment the worker begins to stop (a signal, `drain()`, a failure, a stop during
   * warm-up). An adapter that is still opening stops opening and announces nothing.
   */
  readonly stopSignal: AbortSignal;
  /** The stop, once it has begun: its reason and when (epoch ms, the worker's clock). */
  readonly stop: { readonly reason: string; readonly at: number } | undefined;
  /**
   * True once deregistration has begun: from then on nothing may be written to a registry or
   * announced (the `stopped` event of {@link Port.deregister} excepted).
   */
  readonly deregistered: boolean;
  /** Concurrency slots free now. */
  readonly freeSlots: number;
  /** Resolves as soon as a concurrency slot is free (at once if one is): for pull intakes. */
  whenSlotFree(): Promise<void>;
  /** Runs a task within the concurrency limit; its signal fires at the drain deadline. */
  run<T>(fn: TaskFn<T>, meta?: TaskMeta): Promise<T>;
  /** Counts work that does not go through the queue (a stream, a socket); call `done()` after. */
  track(meta?: TaskMeta): TaskHandle;
  /**
   * Counts work the port keeps in a table of its own (an HTTP server's requests, on its
   * connections), for a hot path where a {@link track} handle per piece costs too much: the
   * worker asks the table how much is in flight, and what, when it needs to know; the port
   * stamps starts with the counter's clock and reports ends once the table is watched (see
   * {@link WorkTable.watch}). `kind` names the work in the task metrics (`http`). Call it in
   * `attach`.
   */
  countWork(kind: string, table: WorkTable): WorkCounter;
  /** The work in flight now. */
  tasks(): TaskInfo[];
  /** Reports a component's health; the worker is ready only while all are healthy. */
  setHealth(component: string, healthy: boolean, detail?: string): void;
  /** Every component that ever reported its health, and whether it is healthy now. */
  health(): Readonly<Record<string, boolean>>;
  /** The worker's public state, for registry entries. */
  snapshot(): WorkerSnapshot;
  /** Starts the drain, as `worker.drain()` does (a framework's own close, a drain endpoint). */
  drain(reason: string): Promise<StopResult>;
  /**
   * Adds `by` to a counter of this adapter (`handover_nats_answers_total`, `{ code: '503' }`),
   * for a metrics exporter. Does nothing (and costs nothing) until one enabled stats.
   */
  count(name: string, labels?: Readonly<Record<string, string>>, by?: number): void;
  /** Starts counting finished work and adapters' counters: what a metrics exporter calls. */
  enableStats(): void;
  /** What was counted since {@link enableStats}. */
  stats(): WorkerStats;
}

/**
 * An adapter: a broker (NATS), a server (HTTP) or an extension. {@link Worker.use} attaches it;
 * the worker then calls its methods in one fixed order, each bounded by `hookTimeoutMs` and the
 * grace period (`stopIntake` by the drain deadline), and logs what fails without stopping:
 *
 * 1. `connect` while warming (a broker that is down is waited for; `signal` fires on stop);
 * 2. `open` once warm: open task intake, then announce (registry entry, `ready` event). The
 *    worker becomes `ready` only when every port's `open` has resolved; `signal` fires on stop:
 *    stop opening and announce nothing;
 * 3. `heartbeat` every `heartbeatMs` from ready until deregistration;
 * 4. `draining` the moment the stop begins (again with `failed: true` if the worker fails);
 * 5. `stopIntake`: at once for brokers, after the drain delay for servers; resolves when no
 *    new work can arrive here; `deadline` fires at the drain deadline (destroy what is left);
 * 6. `deregister` once the work in flight of every port has settled or was cut off;
 * 7. `teardown`: what belongs to the user's teardown (a framework's close hooks), run with
 *    the shutdown hooks, after all work in flight of every port;
 * 8. `close` after the shutdown hooks: flush and close connections.
 *
 * `draining`, `stopIntake` and `deregister` reach a broker only if its `open` was called (a
 * broker that never opened has nothing to stop); servers and extensions get every step. Every
 * method but `attach` is optional.
 */
export interface Port {
  readonly kind: PortKind;
  /** Used in logs, e.g. `nats` or `http:3000`. */
  readonly name: string;
  /** Called once by {@link Worker.use}. */
  attach(context: PortContext): void;
  connect?(signal: AbortSignal): Promise<void>;
  open?(signal: AbortSignal): Promise<void>;
  heartbeat?(): Promise<void>;
  draining?(notice: DrainNotice): void | Promise<void>;
  stopIntake?(deadline: AbortSignal): Promise<void>;
  deregister?(summary: DrainSummary): Promise<void>;
  teardown?(signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
  /** A server's URL, advertised as the registry entry's `http` field. */
  url?(): string | undefined;
}
