import { describe, expect, it } from 'vitest';
import { HandoverError } from './errors.js';
import {
  canTransition,
  type StateChange,
  StateMachine,
  type WorkerState,
  workerStates,
} from './state.js';

const allowed: Record<WorkerState, WorkerState[]> = {
  created: ['warming', 'stopped'],
  warming: ['ready', 'stopping', 'failed'],
  ready: ['draining', 'failed'],
  draining: ['failed', 'stopped'],
  stopping: ['failed', 'stopped'],
  failed: ['stopped'],
  stopped: [],
};

describe('StateMachine', () => {
  it('starts in created', () => {
    expect(
      new StateMachine(
        () => 0,
        () => {},
      ).state,
    ).toBe('created');
  });

  for (const from of workerStates) {
    for (const to of workerStates) {
      const legal = allowed[from].includes(to);
      it(`${legal ? 'allows' : 'refuses'} ${from} -> ${to}`, () => {
        expect(canTransition(from, to)).toBe(legal);
      });
    }
  }

  it('emits each change with from, to, reason and the injected time', () => {
    const changes: StateChange[] = [];
    let now = 100;
    const machine = new StateMachine(
      () => now,
      (c) => changes.push(c),
    );
    machine.transition('warming', 'start');
    now = 250;
    machine.transition('ready', 'warmed-up');
    expect(changes).toEqual([
      { from: 'created', to: 'warming', reason: 'start', at: 100 },
      { from: 'warming', to: 'ready', reason: 'warmed-up', at: 250 },
    ]);
  });

  it('throws HANDOVER_E_ILLEGAL_TRANSITION and keeps its state on an illegal change', () => {
    const changes: StateChange[] = [];
    const machine = new StateMachine(
      () => 0,
      (c) => changes.push(c),
    );
    machine.transition('warming', 'start');
    let caught: unknown;
    try {
      machine.transition('draining', 'SIGTERM');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HandoverError);
    expect((caught as HandoverError).code).toBe('HANDOVER_E_ILLEGAL_TRANSITION');
    expect(machine.state).toBe('warming');
    expect(changes).toHaveLength(1);
  });

  it('reaches stopped from every state but stopped only through legal paths', () => {
    // Every state can reach `stopped`: no state traps the worker.
    for (const start of workerStates.filter((s) => s !== 'stopped')) {
      const seen = new Set<WorkerState>([start]);
      const queue: WorkerState[] = [start];
      while (queue.length > 0) {
        const state = queue.shift() as WorkerState;
        for (const next of workerStates) {
          if (canTransition(state, next) && !seen.has(next)) {
            seen.add(next);
            queue.push(next);
          }
        }
      }
      expect(seen.has('stopped'), `${start} can reach stopped`).toBe(true);
    }
  });
});
