import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

/**
 * Who the worker is. `readIdentity()` from `@handover/identity` returns a compatible object
 * read from `/etc/hosts`.
 */
export interface WorkerIdentity {
  /** Protocol-safe worker id: 1–128 characters of `[A-Za-z0-9_-]`. */
  readonly id: string;
  /** The host name the id was derived from. */
  readonly hostname: string;
  /** Non-loopback addresses of the host, first is the one advertised. */
  readonly addresses: readonly string[];
}

/**
 * The part of `process` a worker uses. Injected in unit tests; the real `process` by default.
 */
export interface ProcessPort {
  readonly pid: number;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  exit(code: number): void;
}

/**
 * Options of {@link createWorker}; every one is optional, and every one a deployment sets has an
 * environment variable (an option always wins over its variable). Each accepts `undefined`
 * explicitly, so that `service: process.env.SERVICE` type-checks with
 * `exactOptionalPropertyTypes`.
 */
export interface WorkerOptions {
  /**
   * Service name, shared by all workers of one service: 1–64 characters of `[A-Za-z0-9_-]`.
   * Env `HANDOVER_SERVICE`; one of the two is required.
   */
  readonly service?: string | undefined;
  /**
   * This worker's identity. Env `HANDOVER_WORKER_ID` overrides the id.
   * @default read from `/etc/hosts` and the host name (`readIdentitySync()` of
   * `@handover/identity`): in a container the id is the container's host name and the
   * addresses its own; on a plain host the id is `<hostname>-<pid>`
   */
  readonly identity?: WorkerIdentity | undefined;
  /**
   * The worker's version, a SemVer 2.0 string (the NATS micro protocol requires SemVer).
   * Env `HANDOVER_VERSION`.
   * @default `npm_package_version` when npm runs the service and it is SemVer, else '0.0.0'
   */
  readonly version?: string | undefined;
  /**
   * String metadata published in the registry entry. Visible to every reader of the broker:
   * never put secrets here.
   * @default {}
   */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /**
   * Tasks run at once through {@link Worker.run}; more wait in a queue. Minimum 1.
   * @default 16
   */
  readonly concurrency?: number | undefined;
  /**
   * Total time from the stop signal to exit; the worker must be gone before the platform's
   * SIGKILL. Env `HANDOVER_GRACE_PERIOD_MS`.
   * @default 28000 under Kubernetes (`KUBERNETES_SERVICE_HOST` set), else 9000
   */
  readonly gracePeriodMs?: number | undefined;
  /**
   * Time after the signal during which readiness is false but HTTP requests are still served,
   * so load balancers stop routing here first. Env `HANDOVER_DRAIN_DELAY_MS`.
   * @default 5000 under Kubernetes when an HTTP server is attached, else 0
   */
  readonly drainDelayMs?: number | undefined;
  /**
   * Warm-up hooks that take longer in total fail the start (exit 1).
   * Env `HANDOVER_WARMUP_TIMEOUT_MS`.
   * @default 60000
   */
  readonly warmupTimeoutMs?: number | undefined;
  /**
   * Time each shutdown hook (and each adapter step of the drain) may take.
   * Env `HANDOVER_HOOK_TIMEOUT_MS`.
   * @default 5000
   */
  readonly hookTimeoutMs?: number | undefined;
  /**
   * Interval of registry heartbeats; readers treat an entry as dead after 3 × this.
   * Env `HANDOVER_HEARTBEAT_MS`. Minimum 100.
   * @default 1000
   */
  readonly heartbeatMs?: number | undefined;
  /**
   * Part of the grace period kept, after the drain deadline, for deregistration, shutdown
   * hooks and closing connections. In-flight work is cut off at
   * `signal + gracePeriodMs - shutdownReserveMs`. Env `HANDOVER_SHUTDOWN_RESERVE_MS`.
   * @default 1000
   */
  readonly shutdownReserveMs?: number | undefined;
  /**
   * Drain deadline after a fatal error (`uncaughtException`, `unhandledRejection`), capped
   * by the grace period. Env `HANDOVER_FAILURE_DRAIN_MS`.
   * @default 2000
   */
  readonly failureDrainMs?: number | undefined;
  /**
   * How long ports may wait for their broker at start (a NATS server that is down or a wrong
   * `NATS_URL`); then the start fails, exit 1, with the last connect error. Waiting is the
   * default: an outage ends, and the worker becomes ready when its broker comes.
   * Env `HANDOVER_CONNECT_TIMEOUT_MS`. Minimum 1.
   * @default undefined (wait as long as it takes)
   */
  readonly connectTimeoutMs?: number | undefined;
  /**
   * Signals that start the drain. A second SIGTERM is logged and ignored; a SIGINT while
   * draining exits at once with 130. Pass `[]` to handle no signals.
   * @default ['SIGTERM', 'SIGINT']
   */
  readonly signals?: readonly NodeJS.Signals[] | undefined;
  /**
   * Whether the worker owns the process: calls `process.exit` with the exit code when it
   * stops, and turns `uncaughtException`/`unhandledRejection` into a failed drain and exit 1.
   * Set to `false` to embed a worker (tests, a host process): it then never exits the process
   * and {@link Worker.stopped} tells the code it would have used.
   * @default true
   */
  readonly exit?: boolean | undefined;
  /**
   * Exit with 128 + the signal number (143 for SIGTERM) after a clean drain started by a
   * signal, as a shell reports a killed process, instead of 0.
   * @default false
   */
  readonly exitCodeFromSignal?: boolean | undefined;
  /**
   * A pino-compatible logger; the worker logs through a child with `service`, `id` and
   * `instance` bound.
   * @default pino to stdout at `HANDOVER_LOG_LEVEL` (default `info`)
   */
  readonly logger?: Logger | undefined;
  /**
   * Environment to read `HANDOVER_*` variables and `KUBERNETES_SERVICE_HOST` from.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Time source; inject a manual clock in unit tests. @default the system clock */
  readonly clock?: Clock | undefined;
  /** The process whose signals and exit the worker manages. @default process */
  readonly process?: ProcessPort | undefined;
}
