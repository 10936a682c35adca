import type { AttachedPorts } from './attached.js';
import { type Clock, Deadline } from './clock.js';
import type { Timing } from './config.js';
import { HandoverError } from './errors.js';
import { type Hook, runWarmupHooks } from './hooks.js';
import type { Logger } from './logger.js';

/** What the warm-up needs from the worker. */
export interface WarmupDeps {
  readonly clock: Clock;
  readonly timing: Timing;
  readonly logger: Logger;
  readonly hooks: readonly Hook[];
  readonly ports: AttachedPorts;
  /** The worker's stop signal: a stop during warm-up aborts it. */
  readonly stopSignal: AbortSignal;
}

/**
 * Warms up: runs the warm-up hooks in order (bounded together by `warmupTimeoutMs`) while the
 * ports connect (a broker that is down is waited for, without counting against the timeout).
 * Hooks and connects see a stop as an abort with `HANDOVER_E_STOPPED_BEFORE_READY`.
 */
export async function warmUp(deps: WarmupDeps): Promise<void> {
  const { clock, timing, logger, hooks, ports } = deps;
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
  try {
    await Promise.all([
      runWarmupHooks(hooks, clock, AbortSignal.any([timeout.signal, stopped]), logger),
      ...ports.all.map((port) => port.connect?.(stopped)),
    ]);
  } finally {
    timeout.cancel();
  }
  stopped.throwIfAborted();
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
