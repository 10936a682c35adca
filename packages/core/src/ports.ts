import type { Worker } from './types.js';

/** Why the drain started, as passed to {@link BrokerPort.markDraining}. */
export interface DrainNotice {
  /** `SIGTERM`, `SIGINT`, `drain-endpoint`, `api`, `uncaughtException`, ... */
  readonly reason: string;
  /** True when the worker failed (fatal error); the adapter announces `failed`, not `draining`. */
  readonly failed: boolean;
}

/** What the drain did, as passed to {@link BrokerPort.deregister}. */
export interface DrainSummary extends DrainNotice {
  /** Milliseconds from the start of the drain to deregistration. */
  readonly drainMs: number;
  /** Tasks cut off at the deadline (normally 0). */
  readonly abandoned: number;
}

/**
 * The interface a broker adapter (NATS) implements. The worker calls these in a fixed order
 * and bounds each call by `hookTimeoutMs` (and the grace period); an adapter serialises its
 * own operations and never throws for a broker that is down (it logs and carries on).
 *
 * 1. `connect` while warming (waits for a broker that is down; `signal` fires on stop);
 * 2. `register` once warm: open task intake, then announce (entry + `ready` event);
 * 3. `heartbeat` every `heartbeatMs` from ready until deregistration;
 * 4. `markDraining` at the stop signal (again with `failed: true` if the worker fails);
 * 5. `stopIntake`: no new task is delivered here (already delivered ones still run);
 * 6. `deregister` once in-flight work is done or cut off;
 * 7. `close` after the shutdown hooks: flush and close connections.
 *
 * 4–6 are skipped when the worker stops before it was ready; `close` always runs.
 */
export interface BrokerPort {
  readonly kind: 'broker';
  /** Used in logs, e.g. `nats`. */
  readonly name: string;
  /** Called once by {@link Worker.use}. */
  attach(worker: Worker): void;
  connect(signal: AbortSignal): Promise<void>;
  register(): Promise<void>;
  heartbeat(): Promise<void>;
  markDraining(notice: DrainNotice): Promise<void>;
  stopIntake(): Promise<void>;
  deregister(summary: DrainSummary): Promise<void>;
  close(): Promise<void>;
}

/** What a server left behind when it closed. */
export interface ServerCloseReport {
  /** Connections destroyed at the deadline (normally 0). */
  readonly destroyedConnections: number;
}

/**
 * The interface a server adapter (HTTP) implements. Requests count as in-flight work through
 * {@link Worker.track}; readiness comes from {@link Worker.ready}.
 */
export interface ServerPort {
  readonly kind: 'server';
  /** Used in logs, e.g. `http:3000`. */
  readonly name: string;
  /** Called once by {@link Worker.use}. */
  attach(worker: Worker): void;
  /** The URL other services reach this server at (the registry's `http` field), if known. */
  url(): string | undefined;
  /**
   * Called after the drain delay: stop accepting connections, let requests in flight finish,
   * close idle connections. `deadline` fires when the time is up: destroy what is left.
   * Resolves when the server is fully closed.
   */
  close(deadline: AbortSignal): Promise<ServerCloseReport>;
}

/** Anything {@link Worker.use} accepts. */
export type Port = BrokerPort | ServerPort;
