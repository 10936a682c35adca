import { HandoverError } from './errors.js';

/**
 * The lifecycle of a worker (docs/lifecycle.md):
 *
 * ```
 * created ─start()─▶ warming ─warm-up ok─▶ ready ─signal / drain()─▶ draining ─▶ stopped
 *                       └─ warm-up fails / signal ─▶ stopping ────────────────────▶ stopped
 * warming, ready, draining, stopping ─ fatal error ─▶ failed ─▶ stopped
 * ```
 */
export type WorkerState =
  | 'created'
  | 'warming'
  | 'ready'
  | 'draining'
  | 'stopping'
  | 'failed'
  | 'stopped';

/** Every state, in lifecycle order. */
export const workerStates: readonly WorkerState[] = [
  'created',
  'warming',
  'ready',
  'draining',
  'stopping',
  'failed',
  'stopped',
];

const transitions: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  created: ['warming', 'stopped'],
  warming: ['ready', 'stopping', 'failed'],
  ready: ['draining', 'failed'],
  draining: ['failed', 'stopped'],
  stopping: ['failed', 'stopped'],
  failed: ['stopped'],
  stopped: [],
};

/** Whether the lifecycle allows going from `from` to `to`. */
export function canTransition(from: WorkerState, to: WorkerState): boolean {
  return transitions[from].includes(to);
}

/** A state change, as emitted by the worker's `state` event. */
export interface StateChange {
  readonly from: WorkerState;
  readonly to: WorkerState;
  /** Why: `start`, `warmed-up`, `SIGTERM`, `api`, `uncaughtException`, ... */
  readonly reason: string;
  /** Epoch ms of the change. */
  readonly at: number;
}

/** Holds the current state; refuses any change the lifecycle does not allow. */
export class StateMachine {
  #state: WorkerState = 'created';
  readonly #now: () => number;
  readonly #onChange: (change: StateChange) => void;

  constructor(now: () => number, onChange: (change: StateChange) => void) {
    this.#now = now;
    this.#onChange = onChange;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** Moves to `to`, or throws `HANDOVER_E_ILLEGAL_TRANSITION` (a bug, never a user error). */
  transition(to: WorkerState, reason: string): StateChange {
    const from = this.#state;
    if (!canTransition(from, to)) {
      throw new HandoverError(
        'HANDOVER_E_ILLEGAL_TRANSITION',
        `illegal lifecycle transition from ${from} to ${to} (${reason})`,
      );
    }
    this.#state = to;
    const change: StateChange = { from, to, reason, at: this.#now() };
    this.#onChange(change);
    return change;
  }
}
