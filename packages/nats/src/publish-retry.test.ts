import type { PubAck } from '@nats-io/jetstream';
import { TimeoutError } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { AutoClock } from '../test/auto-clock.js';
import { apiError, noStreamLeader } from '../test/js-errors.js';
import { publishWithRetry } from './publish-retry.js';

/** A fake stream: answers each publish with the next outcome (an error, or an ack). */
function stream(clock: AutoClock, ...outcomes: (Error | 'ack')[]) {
  const calls: { msgID?: string; timeout?: number }[] = [];
  const js = {
    publish: async (
      _subject: string,
      _data: unknown,
      options?: { msgID?: string; timeout?: number },
    ) => {
      calls.push({ msgID: options?.msgID, timeout: options?.timeout });
      const next = outcomes.shift() ?? 'ack';
      if (next instanceof TimeoutError) clock.advance(options?.timeout ?? 0);
      if (next instanceof Error) throw next;
      return { stream: 'jobs', seq: calls.length, duplicate: false } as PubAck;
    },
  };
  return { js, calls };
}

const data = new Uint8Array([1]);

describe('publishWithRetry', () => {
  it('keeps the same msg id across an election, and says how many attempts it took', async () => {
    const clock = new AutoClock();
    const { js, calls } = stream(
      clock,
      noStreamLeader('jobs.x'),
      noStreamLeader('jobs.x'),
      new TimeoutError(),
      'ack',
    );
    const retries: string[] = [];
    const result = await publishWithRetry(js, 'jobs.x', data, {
      msgID: 'job-1',
      timeoutMs: 20_000,
      attemptTimeoutMs: 2000,
      clock,
      onRetry: (r) => retries.push(r.reason),
    });
    expect(result.attempts).toBe(4);
    expect(result.ack.seq).toBe(4);
    expect(new Set(calls.map((c) => c.msgID))).toEqual(new Set(['job-1']));
    expect(retries).toEqual([
      'no stream leader answered (election?)',
      'no stream leader answered (election?)',
      'timeout',
    ]);
  });

  it('gives up at the total timeout with HANDOVER_E_NATS_PUBLISH_FAILED and the last reason', async () => {
    const clock = new AutoClock();
    const { js, calls } = stream(
      clock,
      ...Array.from({ length: 100 }, () => noStreamLeader('jobs.x')),
    );
    const failure = publishWithRetry(js, 'jobs.x', data, {
      msgID: 'job-2',
      timeoutMs: 3000,
      attemptTimeoutMs: 1000,
      clock,
    });
    await expect(failure).rejects.toMatchObject({
      code: 'HANDOVER_E_NATS_PUBLISH_FAILED',
      message: expect.stringMatching(
        /not acknowledged within 3000 ms \(\d+ attempts; last: no stream leader/,
      ),
    });
    expect(calls.length).toBeGreaterThan(2);
  });

  it('never lets an attempt wait past the total timeout', async () => {
    const clock = new AutoClock();
    const { js, calls } = stream(clock, new TimeoutError(), new TimeoutError(), new TimeoutError());
    await publishWithRetry(js, 'jobs.x', data, {
      msgID: 'job-3',
      timeoutMs: 2500,
      attemptTimeoutMs: 1000,
      clock,
      backoffMs: { base: 0, max: 0 },
    }).catch(() => {});
    expect(calls.map((c) => c.timeout)).toEqual([1000, 1000, 500]);
  });

  it('fails at once on an error a retry cannot fix', async () => {
    const clock = new AutoClock();
    const { js, calls } = stream(clock, apiError(503, 10077, 'maximum messages exceeded'));
    await expect(
      publishWithRetry(js, 'jobs.x', data, {
        msgID: 'job-4',
        timeoutMs: 5000,
        attemptTimeoutMs: 1000,
        clock,
      }),
    ).rejects.toMatchObject({ message: 'publish to jobs.x failed: maximum messages exceeded' });
    expect(calls).toHaveLength(1);
  });

  it('builds the error the caller asks for', async () => {
    const clock = new AutoClock();
    const { js } = stream(clock, apiError(400, 10071, 'wrong last sequence: 3'));
    const error = await publishWithRetry(js, 'jobs.x', data, {
      msgID: 'job-5',
      timeoutMs: 5000,
      attemptTimeoutMs: 1000,
      clock,
      fail: (message, details) => Object.assign(new Error(message), { attempts: details.attempts }),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ attempts: 1 });
  });
});
