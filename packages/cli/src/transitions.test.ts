import type { WorkerChange } from '@handover/nats/controller';
import type { WorkerEntry, WorkerEvent } from '@handover/nats/wire';
import { describe, expect, it } from 'vitest';
import { type Timers, type Transition, Transitions } from './transitions.js';

/** A clock and timers a test moves by hand. */
function manualTimers(): Timers & { advance(ms: number): void } {
  let now = 1_000_000;
  const due: { at: number; fn: () => void; id: number }[] = [];
  let next = 0;
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      due.push({ at: now + ms, fn, id: ++next });
      return next;
    },
    clearTimeout: (id) => {
      const i = due.findIndex((d) => d.id === id);
      if (i >= 0) due.splice(i, 1);
    },
    advance(ms) {
      now += ms;
      for (const d of due.filter((d) => d.at <= now)) {
        due.splice(due.indexOf(d), 1);
        d.fn();
      }
    },
  };
}

const entry = (id: string, instance: string, state: 'ready' | 'draining' = 'ready') =>
  ({ id, instance, version: '1.0.0', state, heartbeatMs: 1000 }) as WorkerEntry;
const change = (
  type: WorkerChange['type'],
  worker: WorkerEntry,
  reason?: WorkerChange['reason'],
): WorkerChange => ({ type, worker, at: 1_000_000, ...(reason ? { reason } : {}) });
const event = (type: WorkerEvent['type'], w: WorkerEntry, extra: Partial<WorkerEvent> = {}) =>
  ({
    type,
    id: w.id,
    instance: w.instance,
    version: w.version,
    service: 'orders',
    ...extra,
  }) as WorkerEvent;

function setup() {
  const timers = manualTimers();
  const out: Transition[] = [];
  const transitions = new Transitions((t) => out.push(t), timers, 1000);
  const shown = () =>
    out
      .filter((t) => t.type !== 'watching')
      .map((t) =>
        [
          t.type,
          t.worker?.id,
          t.state,
          t.reason,
          t.drainMs,
          t.abandoned,
          `${t.fleet.ready}/${t.fleet.draining}`,
        ]
          .filter((x) => x !== undefined)
          .join(' '),
      );
  return { timers, transitions, shown, out };
}

describe('Transitions', () => {
  it('reports a start-first replacement once each: ready, draining with its reason, gone with the drain', () => {
    const { transitions, shown, out } = setup();
    const old = entry('w-1', 'I1');
    transitions.seed([old], 'nats://n:4222');
    transitions.change(change('added', old)); // the iterator's replay: nothing new
    const fresh = entry('w-2', 'I2');
    transitions.change(change('added', fresh));
    transitions.change(change('updated', fresh)); // a heartbeat
    transitions.event(event('draining', old, { reason: 'SIGTERM' }));
    transitions.change(change('updated', entry('w-1', 'I1', 'draining')));
    transitions.change(change('updated', entry('w-1', 'I1', 'draining')));
    // The entry is deleted before the `stopped` event is published.
    transitions.change(change('removed', entry('w-1', 'I1', 'draining'), 'deleted'));
    transitions.event(event('stopped', old, { drainMs: 231, abandoned: 0 }));
    expect(out[0]).toEqual({
      type: 'watching',
      at: 1_000_000,
      server: 'nats://n:4222',
      fleet: { ready: 1, draining: 0 },
    });
    expect(shown()).toEqual([
      'present w-1 ready 1/0',
      'ready w-2 2/0',
      'draining w-1 SIGTERM 1/1',
      'gone w-1 stopped 231 0 1/0',
    ]);
  });

  it('waits a moment for a reason the registry was faster to tell, then goes without it', () => {
    const { timers, transitions, shown } = setup();
    const w = entry('w-1', 'I1');
    transitions.seed([w], 'nats://n:4222');
    transitions.change(change('updated', entry('w-1', 'I1', 'draining')));
    expect(shown()).toEqual(['present w-1 ready 1/0']);
    transitions.event(event('draining', w, { reason: 'drain-endpoint' }));
    expect(shown().at(-1)).toBe('draining w-1 drain-endpoint 0/1');

    const v = entry('w-2', 'I2');
    transitions.change(change('added', v));
    transitions.change(change('updated', entry('w-2', 'I2', 'draining')));
    timers.advance(1000);
    expect(shown().at(-1)).toBe('draining w-2 0/2');
  });

  it('says deregistered when the stopped event never comes, stale when a worker went silent', () => {
    const { timers, transitions, shown } = setup();
    const a = entry('w-1', 'I1');
    const b = entry('w-2', 'I2');
    transitions.seed([a, b], 'nats://n:4222');
    transitions.change(change('removed', a, 'deleted'));
    expect(shown()).toHaveLength(2);
    timers.advance(1000);
    transitions.change(change('removed', b, 'stale'));
    expect(shown().slice(2)).toEqual(['gone w-1 deleted 1/0', 'gone w-2 stale 0/0']);
  });

  it('sends a held draining before the gone of the same worker, and a failed reason', () => {
    const { transitions, shown } = setup();
    const w = entry('w-1', 'I1');
    transitions.seed([w], 'nats://n:4222');
    transitions.change(change('updated', entry('w-1', 'I1', 'draining')));
    transitions.event(event('stopped', w, { drainMs: 5, abandoned: 2 }));
    transitions.change(change('removed', w, 'stopped'));
    expect(shown().slice(1)).toEqual(['draining w-1 0/1', 'gone w-1 stopped 5 2 0/0']);

    const f = entry('w-3', 'I3');
    transitions.change(change('added', f));
    transitions.event(event('failed', f, { reason: 'uncaughtException' }));
    transitions.change(change('updated', entry('w-3', 'I3', 'draining')));
    expect(shown().at(-1)).toBe('draining w-3 failed: uncaughtException 0/1');
  });

  it("shows a worker's ready event before its entry arrives, once, and forgets one never confirmed", () => {
    const { timers, transitions, shown } = setup();
    const early = entry('w-0', 'I0');
    transitions.event(event('ready', early)); // before watching began: the seed lists it
    transitions.seed([entry('w-1', 'I1'), early], 'nats://n:4222');
    const fresh = { ...entry('w-2', 'I2'), version: '2.0.0' };
    transitions.event(event('ready', fresh));
    transitions.event(event('draining', entry('w-1', 'I1'), { reason: 'SIGTERM' }));
    transitions.change(change('updated', entry('w-1', 'I1', 'draining')));
    transitions.change(change('added', fresh)); // the entry, later: nothing new
    transitions.event(event('ready', entry('w-9', 'I9'))); // never in the registry
    timers.advance(10_000);
    transitions.change(change('removed', entry('w-1', 'I1', 'draining'), 'stale'));
    expect(shown()).toEqual([
      'present w-0 ready 2/0',
      'present w-1 ready 2/0',
      'ready w-2 3/0',
      'draining w-1 SIGTERM 2/1',
      'ready w-9 3/1',
      'gone w-1 stale 2/0',
    ]);
  });

  it('tells a new instance under a known id apart: the old one is replaced', () => {
    const { transitions, shown } = setup();
    transitions.seed([entry('w-1', 'I1')], 'nats://n:4222');
    transitions.change(change('updated', entry('w-1', 'I9')));
    expect(shown().slice(1)).toEqual(['gone w-1 replaced 0/0', 'ready w-1 1/0']);
  });
});
