import type { AttachedPorts } from './attached.js';
import { type Clock, Deadline } from './clock.js';
import type { Timing } from './config.js';
import { HandoverError } from './errors.js';
import { type Hook, runWarmupHooks } from './hooks.js';
import type { Logger } from './logger.js';
import type { Readiness } from './readiness.js';

/** What the warm-up needs from the worker. */
export interface WarmupDeps {
  readonly clock: Clock;
  readonly timing: Timing;
  readonly logger: Logger;
  readonly hooks: readonly Hook[];
  readonly ports: AttachedPorts;
  /** The worker's stop signal: a stop during warm-up aborts it. */
  readonly stopSignal: AbortSignal;
  /** Where the hook being run is reported, for the probes' `waitingFor`. */
  readonly readiness: Readiness;
}

/**
 * Warms up: runs the warm-up hooks in order (bounded together by `warmupTimeoutMs`) while the
 * ports connect (a broker that is down is waited for, without counting against the timeout,
 * for at most `connectTimeoutMs` when set). Hooks and connects see a stop as an abort with
 * `HANDOVER_E_STOPPED_BEFORE_READY`; connects see the connect timeout as an abort with
 * `HANDOVER_E_CONNECT_TIMEOUT`.
 */
export async function warmUp(deps: WarmupDeps): Promise<void> {
  const { clock, timing, logger, hooks, ports, readiness } = deps;
  const timeout = new Deadline(
    clock,
    clock.now() + timing.warmupTimeoutMs,
    () =>
      new HandoverError(
        'HANDOVER_E_WARMUP_TIMEOUT',
        `warm-up did not finish within warmupTimeoutMs (${timing.warmupTimeoutMs} ms)`,
      ),
  );
  const stopped = stoppedBeforeReady(deps.stopSignal);
  const connectTimeout = connectDeadline(clock, timing.connectTimeoutMs);
  const connectSignal = connectTimeout
    ? AbortSignal.any([stopped, connectTimeout.signal])
    : stopped;
  try {
    await Promise.all([
      runWarmupHooks(hooks, clock, AbortSignal.any([timeout.signal, stopped]), logger, (hook) =>
        readiness.setHealth(
          'warm-up',
          hook === undefined,
          hook && `running warm-up hook "${hook}"`,
        ),
      ),
      ...ports.all.map((port) => port.connect?.(connectSignal)),
    ]);
  } finally {
    timeout.cancel();
    connectTimeout?.cancel();
  }
  stopped.throwIfAborted();
}

function connectDeadline(clock: Clock, ms: number | undefined): Deadline | undefined {
  if (ms === undefined) return undefined;
  return new Deadline(
    clock,
    clock.now() + ms,
    () =>
      new HandoverError(
        'HANDOVER_E_CONNECT_TIMEOUT',
        `no connection to the broker within connectTimeoutMs (${ms} ms)`,
      ),
  );
}

/** A signal that fires with a `HANDOVER_E_STOPPED_BEFORE_READY` error when `stop` fires. */
function stoppedBeforeReady(stop: AbortSignal): AbortSignal {
  const controller = new AbortController();
  const abort = (): void =>
    controller.abort(
      new HandoverError(
        'HANDOVER_E_STOPPED_BEFORE_READY',
        `stopped during warm-up (${String(stop.reason)})`,
      ),
    );
  if (stop.aborted) abort();
  else stop.addEventListener('abort', abort, { once: true });
  return controller.signal;
}
