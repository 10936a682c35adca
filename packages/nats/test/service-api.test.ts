import { waitFor } from '@handover/testkit';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEntry, ready, useNats } from './helpers.js';

const { nc, worker } = useNats();

/** Every answer to `subject` within `ms` (the micro protocol's discovery is scatter-gather). */
async function gather(
  conn: NatsConnection,
  subject: string,
  ms = 500,
): Promise<Record<string, unknown>[]> {
  const answers: Record<string, unknown>[] = [];
  try {
    const replies = await conn.requestMany(subject, undefined, { maxWait: ms, strategy: 'timer' });
    for await (const reply of replies) answers.push(reply.json());
  } catch (error) {
    // Nobody listening at all is an empty answer, not a failure.
    if (!(error instanceof Error && /no responders/i.test(error.message))) throw error;
  }
  return answers;
}

const semver = /^\d+\.\d+\.\d+/;

describe('the $SRV service API (ADR-32)', () => {
  let a: ReturnType<typeof worker>;
  let instance = '';
  beforeAll(async () => {
    a = worker({ SERVICE: 'micro', HANDOVER_WORKER_ID: 'micro-a', VERSION: '2.3.4' });
    await ready(a);
    instance = (await readEntry(nc(), 'micro', 'micro-a'))?.instance ?? '';
  });
  afterAll(async () => {
    a.signal('SIGTERM');
    await a.waitForExit();
  });

  it.each(['$SRV.PING', '$SRV.PING.micro', 'ID'])(
    'answers PING on %s with the standard fields',
    async (subject) => {
      const target = subject === 'ID' ? `$SRV.PING.micro.${instance}` : subject;
      const [pong] = (await gather(nc(), target)).filter((p) => p.name === 'micro');
      expect(pong).toEqual({
        type: 'io.nats.micro.v1.ping_response',
        name: 'micro',
        id: instance,
        version: '2.3.4',
        metadata: { region: 'test', 'handover.id': 'micro-a' },
      });
      expect(pong?.version).toMatch(semver);
    },
  );

  it('answers INFO with its one endpoint and queue group', async () => {
    const [info] = (await gather(nc(), `$SRV.INFO.micro.${instance}`)) as Record<string, unknown>[];
    expect(info).toEqual({
      type: 'io.nats.micro.v1.info_response',
      name: 'micro',
      id: instance,
      version: '2.3.4',
      metadata: { region: 'test', 'handover.id': 'micro-a' },
      description: 'Handover worker of micro',
      endpoints: [
        { name: 'tasks', subject: 'handover.micro.tasks', queue_group: 'micro', metadata: {} },
      ],
    });
  });

  it('answers STATS with request and error counts, times in nanoseconds, and its state', async () => {
    await nc().request('handover.micro.tasks', '{"ms":20}', { timeout: 5000 });
    await nc().request('handover.micro.tasks', '{"fail":"task-error"}', { timeout: 5000 });
    const [stats] = (await gather(nc(), '$SRV.STATS.micro')) as Record<string, unknown>[];
    expect(stats).toMatchObject({
      type: 'io.nats.micro.v1.stats_response',
      name: 'micro',
      id: instance,
      version: '2.3.4',
    });
    expect(Date.parse(stats?.started as string)).not.toBeNaN();
    const [endpoint] = (stats?.endpoints ?? []) as Record<string, unknown>[];
    expect(endpoint).toMatchObject({
      name: 'tasks',
      subject: 'handover.micro.tasks',
      queue_group: 'micro',
      num_requests: 2,
      num_errors: 1,
      last_error: 'order rejected',
      data: { state: 'ready', inflight: 0 },
    });
    // 20 ms of work: at least 20,000,000 ns in total, the average half of it.
    expect(endpoint?.processing_time as number).toBeGreaterThanOrEqual(20_000_000);
    expect(endpoint?.average_processing_time).toBe(
      Math.trunc((endpoint?.processing_time as number) / 2),
    );
  });

  it('answers for every worker of the service, each with its own id', async () => {
    const b = worker({ SERVICE: 'micro', HANDOVER_WORKER_ID: 'micro-b', VERSION: '2.3.4' });
    await ready(b);
    const pongs = (await gather(nc(), '$SRV.PING.micro')).map(
      (p) => (p.metadata as Record<string, string>)['handover.id'],
    );
    expect(pongs.sort()).toEqual(['micro-a', 'micro-b']);
    b.signal('SIGTERM');
    await b.waitForExit();
  });

  it('stops answering once the worker closes its intake', async () => {
    const c = worker({ SERVICE: 'gone', HANDOVER_WORKER_ID: 'gone-1', TASK_MS: '1500' });
    await ready(c);
    const busy = nc().request('handover.gone.tasks', '{}', { timeout: 5000 });
    await waitFor(
      async () => (await gather(nc(), '$SRV.STATS.gone', 200))[0]?.endpoints !== undefined,
    );
    c.signal('SIGTERM');
    await c.waitForLog((l) => l.msg === 'task intake closed');
    // Still draining (the 1.5 s task runs), but no longer discoverable.
    expect(await gather(nc(), '$SRV.PING.gone', 300)).toEqual([]);
    expect((await busy).json()).toMatchObject({ worker: 'gone-1' });
    expect((await c.waitForExit()).code).toBe(0);
  });
});
