import { describeError, isHandoverError } from '@handover/core';
import { TaskError } from './errors.js';

/** What is known of a delivery when its handler fails. */
export interface FailedAttempt {
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  /** The consumer's `max_deliver`; `-1`: unlimited. */
  readonly maxDeliver: number;
  /** Delay of the n-th retry: `min(base * 2^(n-1), max)`. */
  readonly nakDelayMs: { readonly base: number; readonly max: number };
}

/** How a failed delivery is settled, and why (`cause` picks the log line). */
export type Settlement =
  | {
      readonly how: 'nak';
      /** `undefined`: redeliver at once. */
      readonly delayMs: number | undefined;
      readonly cause: 'cut-off' | 'failed';
      readonly reason: string;
    }
  | {
      readonly how: 'term';
      readonly cause: 'rejected' | 'exhausted' | 'undecodable';
      readonly reason: string;
    };

/** A payload the codec cannot decode never will be: it is terminated on its first delivery. */
export const undecodable: Settlement = {
  how: 'term',
  cause: 'undecodable',
  reason: 'payload could not be decoded',
};

/**
 * The settle policy of the JetStream intake (PROTOCOL.md, "Tasks, JetStream intake"), for a
 * handler that did not return: a job cut off by the drain (or refused because the worker no
 * longer runs anything) goes back at once for another worker; a `TaskError` with a 4xx status
 * is the job's own fault and is terminated; a failure on the last allowed delivery is
 * terminated (the server would drop it anyway, without a word in the logs); anything else is
 * retried after an exponential backoff.
 */
export function settleFailure(error: unknown, attempt: FailedAttempt): Settlement {
  if (
    isHandoverError(error, 'HANDOVER_E_TASK_ABORTED') ||
    isHandoverError(error, 'HANDOVER_E_NOT_ACCEPTING')
  ) {
    return {
      how: 'nak',
      delayMs: undefined,
      cause: 'cut-off',
      reason: 'cut off at the drain deadline',
    };
  }
  if (error instanceof TaskError && error.status >= 400 && error.status < 500) {
    return { how: 'term', cause: 'rejected', reason: error.message };
  }
  const reason = describeError(error);
  const { deliveryCount, maxDeliver, nakDelayMs } = attempt;
  if (maxDeliver > 0 && deliveryCount >= maxDeliver) {
    return { how: 'term', cause: 'exhausted', reason: `failed ${deliveryCount} times: ${reason}` };
  }
  const delayMs = Math.min(nakDelayMs.base * 2 ** (Math.max(1, deliveryCount) - 1), nakDelayMs.max);
  return { how: 'nak', delayMs, cause: 'failed', reason };
}
