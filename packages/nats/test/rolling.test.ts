import { waitFor } from '@handover/testkit';
import { describe, expect, it } from 'vitest';
import { readEntry, ready, useNats } from './helpers.js';

const { nc, worker } = useNats();

describe('a start-first rolling restart', () => {
  it('replaces 3 workers under steady load with 0 failed requests at a plain requester', async () => {
    const env = (id: string, version: string) => ({
      SERVICE: 'roll',
      HANDOVER_WORKER_ID: id,
      VERSION: version,
      TASK_MS: '30',
    });
    const old = ['roll-1', 'roll-2', 'roll-3'].map((id) => worker(env(id, '1.0.0')));
    await Promise.all(old.map(ready));

    // A plain requester: one request at a time per lane, no retries, 5 s timeout.
    const results: { ok: boolean; version?: string; error?: string }[] = [];
    let running = true;
    const lanes = Array.from({ length: 8 }, async () => {
      while (running) {
        try {
          const reply = await nc().request('handover.roll.tasks', '{}', { timeout: 5000 });
          const code = reply.headers?.get('Nats-Service-Error-Code');
          if (code) results.push({ ok: false, error: `service error ${code}` });
          else results.push({ ok: true, version: reply.json<{ version: string }>().version });
        } catch (error) {
          results.push({ ok: false, error: (error as Error).message });
        }
      }
    });
    await waitFor(() => results.length >= 50, { what: 'steady load' });

    const exits: number[] = [];
    const replacements: ReturnType<typeof worker>[] = [];
    for (let i = 0; i < old.length; i++) {
      // Like `docker service update --update-order start-first`: new one ready first.
      const fresh = worker(env(`roll-new-${i + 1}`, '2.0.0'));
      replacements.push(fresh);
      await ready(fresh);
      await waitFor(() => readEntry(nc(), 'roll', `roll-new-${i + 1}`), { what: 'the new entry' });
      const leaving = old[i];
      leaving?.signal('SIGTERM');
      exits.push((await leaving?.waitForExit())?.code ?? -1);
    }
    const before = results.length;
    await waitFor(() => results.length >= before + 50, { what: 'load after the update' });
    running = false;
    await Promise.all(lanes);
    for (const w of replacements) w.signal('SIGTERM');
    await Promise.all(replacements.map((w) => w.waitForExit()));

    const failed = results.filter((r) => !r.ok);
    expect(
      failed.length,
      `failed: ${JSON.stringify(failed.slice(0, 5))} of ${results.length}`,
    ).toBe(0);
    expect(exits).toEqual([0, 0, 0]);
    // Served by v1 first, v2 at the end.
    expect(results[0]?.version).toBe('1.0.0');
    expect(results.slice(-20).every((r) => r.version === '2.0.0')).toBe(true);
  });
});
