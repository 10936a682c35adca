import { constants } from 'node:os';
import { HandoverOptionError } from './errors.js';
import type { WorkerOptions } from './options.js';
import {
  envInteger,
  envString,
  expectOption,
  type IntegerRange,
  optionalInteger,
  optionalString,
  received,
} from './validate.js';

/** The timing budget a worker runs with, after options, environment and defaults. */
export interface Timing {
  readonly gracePeriodMs: number;
  readonly drainDelayMs: number;
  readonly warmupTimeoutMs: number;
  readonly hookTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly shutdownReserveMs: number;
  readonly failureDrainMs: number;
  /** How long ports may wait for their broker at start; `undefined`: as long as it takes. */
  readonly connectTimeoutMs: number | undefined;
  /** Whether Kubernetes was detected (`KUBERNETES_SERVICE_HOST` set). */
  readonly kubernetes: boolean;
}

/** The environment variable of each timing option. */
export const timingEnv = {
  gracePeriodMs: 'HANDOVER_GRACE_PERIOD_MS',
  drainDelayMs: 'HANDOVER_DRAIN_DELAY_MS',
  warmupTimeoutMs: 'HANDOVER_WARMUP_TIMEOUT_MS',
  hookTimeoutMs: 'HANDOVER_HOOK_TIMEOUT_MS',
  heartbeatMs: 'HANDOVER_HEARTBEAT_MS',
  shutdownReserveMs: 'HANDOVER_SHUTDOWN_RESERVE_MS',
  failureDrainMs: 'HANDOVER_FAILURE_DRAIN_MS',
  connectTimeoutMs: 'HANDOVER_CONNECT_TIMEOUT_MS',
} as const satisfies Record<Exclude<keyof Timing, 'kubernetes'>, string>;

/** Node's timers overflow past 2^31 - 1 ms. */
const maxMs = 2_147_483_647;
const ranges: Record<keyof typeof timingEnv, IntegerRange> = {
  gracePeriodMs: { min: 100, max: maxMs, unit: 'ms' },
  drainDelayMs: { min: 0, max: maxMs, unit: 'ms' },
  warmupTimeoutMs: { min: 1, max: maxMs, unit: 'ms' },
  hookTimeoutMs: { min: 1, max: maxMs, unit: 'ms' },
  heartbeatMs: { min: 100, max: maxMs, unit: 'ms' },
  shutdownReserveMs: { min: 0, max: maxMs, unit: 'ms' },
  failureDrainMs: { min: 0, max: maxMs, unit: 'ms' },
  connectTimeoutMs: { min: 1, max: maxMs, unit: 'ms' },
};

/** Defaults of the timing table in docs/lifecycle.md. */
export const timingDefaults = {
  gracePeriodMs: { kubernetes: 28_000, other: 9_000 },
  drainDelayMs: { httpOnKubernetes: 5_000, other: 0 },
  warmupTimeoutMs: 60_000,
  hookTimeoutMs: 5_000,
  heartbeatMs: 1_000,
  shutdownReserveMs: 1_000,
  failureDrainMs: 2_000,
} as const;

export const serviceNamePattern = /^[A-Za-z0-9_-]{1,64}$/;
export const workerIdPattern = /^[A-Za-z0-9_-]{1,128}$/;
// SemVer 2.0.0, from semver.org's suggested expression.
const semverPattern =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

type Env = Readonly<Record<string, string | undefined>>;

function pick(options: WorkerOptions, env: Env, key: keyof typeof timingEnv): number | undefined {
  return (
    optionalInteger(key, options[key], ranges[key]) ?? envInteger(env, timingEnv[key], ranges[key])
  );
}

/**
 * Resolves the timing budget: an option wins over its environment variable, which wins over
 * the default. `httpServers` tells whether an HTTP server is attached (it changes the default
 * drain delay under Kubernetes).
 */
export function resolveTiming(options: WorkerOptions, env: Env, httpServers: boolean): Timing {
  const kubernetes = Boolean(env.KUBERNETES_SERVICE_HOST);
  const gracePeriodMs =
    pick(options, env, 'gracePeriodMs') ??
    (kubernetes ? timingDefaults.gracePeriodMs.kubernetes : timingDefaults.gracePeriodMs.other);
  const drainDelayMs =
    pick(options, env, 'drainDelayMs') ??
    (httpServers && kubernetes
      ? timingDefaults.drainDelayMs.httpOnKubernetes
      : timingDefaults.drainDelayMs.other);
  const shutdownReserveMs =
    pick(options, env, 'shutdownReserveMs') ?? timingDefaults.shutdownReserveMs;
  expectOption(
    drainDelayMs + shutdownReserveMs < gracePeriodMs,
    `Expected drainDelayMs (${drainDelayMs}) + shutdownReserveMs (${shutdownReserveMs}) to be less than gracePeriodMs (${gracePeriodMs}), leaving time for in-flight work`,
  );
  return {
    gracePeriodMs,
    drainDelayMs,
    shutdownReserveMs,
    warmupTimeoutMs: pick(options, env, 'warmupTimeoutMs') ?? timingDefaults.warmupTimeoutMs,
    hookTimeoutMs: pick(options, env, 'hookTimeoutMs') ?? timingDefaults.hookTimeoutMs,
    heartbeatMs: pick(options, env, 'heartbeatMs') ?? timingDefaults.heartbeatMs,
    failureDrainMs: pick(options, env, 'failureDrainMs') ?? timingDefaults.failureDrainMs,
    connectTimeoutMs: pick(options, env, 'connectTimeoutMs'),
    kubernetes,
  };
}

/** The non-timing options, validated, with defaults. */
export interface WorkerSettings {
  readonly service: string;
  readonly version: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly concurrency: number;
  readonly signals: readonly NodeJS.Signals[];
  readonly exit: boolean;
  readonly exitCodeFromSignal: boolean;
}

function validateMetadata(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  expectOption(
    typeof value === 'object' && value !== null && !Array.isArray(value),
    `Expected \`metadata\` to be an object of strings, got ${received(value)}`,
  );
  for (const [key, item] of Object.entries(value)) {
    expectOption(
      typeof item === 'string',
      `Expected \`metadata.${key}\` to be a string, got ${received(item)}`,
    );
  }
  return Object.freeze({ ...(value as Record<string, string>) });
}

/** Signals a process can handle: the ones this platform knows, minus SIGKILL and SIGSTOP. */
const handleable = new Set(
  Object.keys(constants.signals).filter((s) => s !== 'SIGKILL' && s !== 'SIGSTOP'),
);

function validateSignals(value: unknown): readonly NodeJS.Signals[] {
  if (value === undefined) return ['SIGTERM', 'SIGINT'];
  expectOption(
    Array.isArray(value) && value.every((s) => typeof s === 'string' && handleable.has(s)),
    `Expected \`signals\` to be an array of signal names a process can handle, such as 'SIGTERM' (not SIGKILL or SIGSTOP), got ${received(value)}`,
  );
  return Object.freeze([...new Set(value as NodeJS.Signals[])]);
}

function optionalBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  expectOption(
    typeof value === 'boolean',
    `Expected \`${name}\` to be a boolean, got ${received(value)}`,
  );
  return value;
}

/** The environment variables of the non-timing settings. */
export const settingsEnv = {
  service: 'HANDOVER_SERVICE',
  version: 'HANDOVER_VERSION',
} as const;

const serviceExpectation = '1-64 characters of [A-Za-z0-9_-]';
const versionExpectation = 'a SemVer 2.0 string such as 1.4.2';

function resolveService(options: WorkerOptions, env: Env): string {
  const service =
    optionalString('service', options.service, serviceNamePattern, serviceExpectation) ??
    envString(env, settingsEnv.service, serviceNamePattern, serviceExpectation);
  expectOption(
    service !== undefined,
    `Expected \`service\` (or the environment variable ${settingsEnv.service}) to be ${serviceExpectation}, got undefined`,
  );
  return service;
}

/** The option, else `HANDOVER_VERSION`, else the package's own version when npm runs it. */
function resolveVersion(options: WorkerOptions, env: Env): string {
  const npm = env.npm_package_version;
  return (
    optionalString('version', options.version, semverPattern, versionExpectation) ??
    envString(env, settingsEnv.version, semverPattern, versionExpectation) ??
    (npm !== undefined && semverPattern.test(npm) ? npm : '0.0.0')
  );
}

/**
 * Validates everything but timing and identity, reading `HANDOVER_SERVICE` and
 * `HANDOVER_VERSION` where the option is absent; throws {@link HandoverOptionError} on the
 * first problem.
 */
export function resolveSettings(options: WorkerOptions, env: Env = {}): WorkerSettings {
  if (typeof options !== 'object' || options === null) {
    throw new HandoverOptionError(
      'HANDOVER_E_INVALID_OPTION',
      `Expected options to be an object, got ${received(options)}`,
    );
  }
  return {
    service: resolveService(options, env),
    version: resolveVersion(options, env),
    metadata: validateMetadata(options.metadata),
    concurrency: optionalInteger('concurrency', options.concurrency, { min: 1 }) ?? 16,
    signals: validateSignals(options.signals),
    exit: optionalBoolean('exit', options.exit, true),
    exitCodeFromSignal: optionalBoolean('exitCodeFromSignal', options.exitCodeFromSignal, false),
  };
}
