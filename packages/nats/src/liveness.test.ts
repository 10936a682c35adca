import { describe, expect, it } from 'vitest';
import { Liveness, type Tracked } from './liveness.js';
import type { WorkerEntry } from './wire.js';

const heartbeatMs = 1000;
const tracked = (instance: string, seenAt: number): Tracked => ({
  entry: { instance, heartbeatMs } as WorkerEntry,
  seenAt,
});

/** Three workers last written at 0, a ping that answers for `alive`, and a clock we move. */
function fleet(alive: string[]) {
  let clock = 0;
  const pings: number[] = [];
  const liveness = new Liveness(
    async () => {
      pings.push(clock);
      return new Set(alive);
    },
    () => clock,
  );
  const workers = new Map(['a', 'b', 'c'].map((id) => [id, tracked(id, 0)]));
  const dropped: string[] = [];
  const sweep = async (at: number) => {
    clock = at;
    liveness.sweep(workers, at, (id) => {
      dropped.push(id);
      workers.delete(id);
    });
    // Let a ping the sweep started settle.
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { workers, dropped, pings, sweep };
}

describe('Liveness', () => {
  it('drops a silent worker at once while the others write', async () => {
    const { workers, dropped, pings, sweep } = fleet(['a', 'b', 'c']);
    for (const id of ['b', 'c']) (workers.get(id) as Tracked).seenAt = 2900;
    await sweep(3100);
    expect(dropped).toEqual(['a']);
    expect(pings).toEqual([]);
  });

  it('pings when the whole registry went silent, and keeps only those that answer', async () => {
    const { dropped, pings, sweep } = fleet(['a', 'c']);
    await sweep(3100);
    expect(pings).toEqual([3100]);
    expect(dropped).toEqual(['b']);
  });

  it('gives the workers kept by a ping 3 x heartbeat from when the registry moves again', async () => {
    const { workers, dropped, sweep } = fleet(['a', 'b', 'c']);
    await sweep(3100); // stalled: all answer, kept with aliveAt 3100
    await sweep(6000); // still stalled: pinged again, aliveAt 6000
    // The election is over: a writes first, every second; b and c need a few round trips more.
    const a = workers.get('a') as Tracked;
    a.seenAt = 6500;
    await sweep(6600); // the registry moved: b and c get 3 x heartbeat from now
    a.seenAt = 7500;
    await sweep(7600);
    a.seenAt = 8500;
    await sweep(9200); // 3.2 s after their last ping, 2.6 s after the move
    expect(dropped).toEqual([]);
    a.seenAt = 9500;
    await sweep(9700); // b and c silent 3.1 s since the move: gone after all
    expect(dropped).toEqual(['b', 'c']);
  });
});
