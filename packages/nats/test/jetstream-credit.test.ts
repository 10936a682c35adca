import { type Child, startTcpRelay, type TcpRelay, waitFor } from '@handover/testkit';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { msg, ready, useNats } from './helpers.js';

const { nc, server, worker } = useNats();

/**
 * Every acknowledgement sent for `stream`/`consumer`, per stream sequence, with the delivery
 * it answers: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`.
 */
function watchAcks(conn: NatsConnection, stream: string, consumer: string) {
  const acks = new Map<number, { kind: string; delivery: number }[]>();
  /** When the +ACK of each sequence reached this process. */
  const ackedAt = new Map<number, number>();
  const sub = conn.subscribe(`$JS.ACK.${stream}.${consumer}.>`, {
    callback: (_e, m) => {
      const tokens = m.subject.split('.');
      const kind = m.string().split(' ')[0] || '+ACK';
      if (kind === '+WPI') return;
      const seq = Number(tokens[5]);
      if (kind === '+ACK') ackedAt.set(seq, Date.now());
      acks.set(seq, [...(acks.get(seq) ?? []), { kind, delivery: Number(tokens[4]) }]);
    },
  });
  const kinds = (seq: number) => (acks.get(seq) ?? []).map((a) => a.kind);
  return {
    kinds,
    acked: (seq: number) => kinds(seq).includes('+ACK'),
    /** When the +ACK of `seq` arrived (epoch ms), if it did. */
    ackedAt: (seq: number) => ackedAt.get(seq),
    /** Sequences not acked exactly once, or nak'ed, or delivered more than once. */
    troubles: (seqs: readonly number[]) =>
      seqs
        .map((seq) => ({ seq, seen: acks.get(seq) ?? [] }))
        .filter(
          ({ seen }) =>
            seen.length !== 1 || seen[0]?.kind !== '+ACK' || (seen[0]?.delivery ?? 0) > 1,
        ),
    stop: () => sub.unsubscribe(),
  };
}

/** A work-queue stream with a 30 s ack_wait: a job dropped on the floor misses every bound. */
async function createStream(conn: NatsConnection, name: string, subject: string) {
  const jsm = await jetstreamManager(conn);
  await jsm.streams.add({ name, subjects: [subject], retention: RetentionPolicy.Workqueue });
  await jsm.consumers.add(name, {
    durable_name: name.toLowerCase(),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
    max_deliver: 10,
  });
}

/** Publishes a job every `everyMs` until stopped; resolves with the stream sequences. */
function publishEvery(conn: NatsConnection, subject: string, everyMs: number, ms = 10) {
  const js = jetstream(conn);
  const seqs: Promise<number>[] = [];
  const timer = setInterval(() => {
    seqs.push(js.publish(subject, JSON.stringify({ ms })).then((ack) => ack.seq));
  }, everyMs);
  return {
    count: () => seqs.length,
    stop: async () => {
      clearInterval(timer);
      return Promise.all(seqs);
    },
  };
}

/** Publishes jobs of 1 ms as fast as 8 publishers in a row can, until stopped. */
function publishFast(conn: NatsConnection, subject: string) {
  const js = jetstream(conn);
  const seqs: number[] = [];
  /** When the publish of each sequence was sent: it was stored later than that. */
  const sentAt = new Map<number, number>();
  let publishing = true;
  const lanes = Array.from({ length: 8 }, async () => {
    while (publishing) {
      const sent = Date.now();
      const { seq } = await js.publish(subject, JSON.stringify({ ms: 1 }));
      sentAt.set(seq, sent);
      seqs.push(seq);
    }
  });
  return {
    count: () => seqs.length,
    /** Sequences whose publish was sent after `at` (epoch ms). */
    sentAfter: (at: number) => seqs.filter((seq) => (sentAt.get(seq) ?? 0) > at),
    stop: async () => {
      publishing = false;
      await Promise.all(lanes);
      return seqs;
    },
  };
}

const relays: TcpRelay[] = [];
afterAll(async () => {
  await Promise.all(relays.map((r) => r.close()));
});

async function stop(child: Child, expectedCode = 0) {
  child.signal('SIGTERM');
  expect((await child.waitForExit()).code).toBe(expectedCode);
}

describe('JetStream intake credit', () => {
  it('loses no job to a closed inbox while a lone worker drains under load: each is acked once, on its first delivery', async () => {
    await createStream(nc(), 'LONE', 'handover.lone.jobs');
    const acks = watchAcks(nc(), 'LONE', 'lone');
    // Many free slots and a fast stream of jobs: at any moment some job is on its way to one
    // of A's open pull requests. Closing A's inboxes before those requests ran out would drop
    // it on the floor until ack_wait (30 s).
    const common = {
      SERVICE: 'lone',
      STREAM: 'LONE',
      CONSUMER: 'lone',
      CONCURRENCY: '500',
      HANDOVER_LOG_LEVEL: 'warn',
    };
    // A's pull requests stay open 1 s: at SIGTERM, jobs keep arriving at them for a while.
    const a = worker({ ...common, HANDOVER_WORKER_ID: 'lone-a', PULL_EXPIRES_MS: '1000' });
    // Logging every job would cost more than the jobs: A logs warnings only, and is ready
    // when it answers $SRV (opened right after its intakes).
    await waitFor(() => nc().request('$SRV.PING.lone', undefined, { timeout: 500 }), {
      timeoutMs: 15_000,
      what: 'A ready',
    });
    const load = publishFast(nc(), 'handover.lone.jobs');
    await waitFor(() => load.count() >= 500 || undefined, { what: '500 jobs published' });
    const signalled = Date.now();
    a.signal('SIGTERM');
    const exitA = await a.waitForExit();
    const seqs = await load.stop();
    const bStarted = Date.now();
    const b = worker({ ...common, HANDOVER_WORKER_ID: 'lone-b' });
    await waitFor(() => seqs.every((seq) => acks.acked(seq)) || undefined, {
      timeoutMs: 10_000,
      what: `every job acked (missing: ${seqs.filter((s) => !acks.acked(s)).join(', ')})`,
    });
    expect(acks.troubles(seqs), 'jobs not acked exactly once on their first delivery').toEqual([]);
    expect(exitA.code).toBe(0);
    // The case this test is for happened: jobs stored after SIGTERM reached A's open pulls and
    // A ran them (acked before B existed, so by A).
    const late = load
      .sentAfter(signalled)
      .filter((seq) => (acks.ackedAt(seq) ?? Infinity) < bStarted);
    expect(late.length, 'jobs published after SIGTERM that A ran').toBeGreaterThan(0);
    const drainMs = exitA.at - signalled;
    expect(drainMs, `A drained in ${drainMs} ms`).toBeLessThan(3000);
    acks.stop();
    await stop(b);
  });

  it('gives back a job that reaches a stopping worker with no slot free once its pull has ended: one nak, no bounce', async () => {
    await createStream(nc(), 'FULL', 'handover.full.jobs');
    const acks = watchAcks(nc(), 'FULL', 'full');
    const common = {
      SERVICE: 'full',
      STREAM: 'FULL',
      CONSUMER: 'full',
      CONCURRENCY: '4',
      PULL_EXPIRES_MS: '3000',
    };
    const requests: number[] = [];
    const spy = nc().subscribe('$JS.API.CONSUMER.MSG.NEXT.FULL.full', {
      callback: () => {
        requests.push(Date.now());
      },
    });
    const a = worker({ ...common, HANDOVER_WORKER_ID: 'full-a' });
    await ready(a);
    // Right after A renewed its pull (4 jobs, open 3 s), four requests take every slot: the
    // credit A gave the server is now for slots it does not have.
    const seen = requests.length;
    await waitFor(() => requests.length > seen || undefined, { what: 'a fresh pull from A' });
    const replies = [1, 2, 3, 4].map(() =>
      nc().request('handover.full.tasks', JSON.stringify({ ms: 1500 }), { timeout: 10_000 }),
    );
    await waitFor(
      async () => {
        const reply = await nc().request('$SRV.STATS.full', undefined, { timeout: 1000 });
        const stats = reply.json<{ endpoints: { data: { inflight: number } }[] }>();
        return stats.endpoints[0]?.data.inflight === 4 || undefined;
      },
      { what: 'every slot taken' },
    );
    a.signal('SIGTERM');
    await a.waitForLog((l) => l.msg === 'state changed' && l.state === 'draining');
    const js = jetstream(nc());
    const seqs = [
      (await js.publish('handover.full.jobs', '{}')).seq,
      (await js.publish('handover.full.jobs', '{}')).seq,
    ];
    const given = await a.waitForLog(
      msg('gave back jobs that arrived with no slot free while stopping'),
      { timeoutMs: 10_000 },
    );
    expect(given.count).toBe(2);
    for (const reply of await Promise.all(replies)) {
      expect(reply.headers?.get('Nats-Service-Error-Code')).toBeFalsy();
    }
    expect((await a.waitForExit()).code).toBe(0);
    expect(a.logs.filter(msg('job started')), 'A started neither job').toEqual([]);

    const b = worker({ ...common, HANDOVER_WORKER_ID: 'full-b' });
    await ready(b);
    await waitFor(() => seqs.every((seq) => acks.acked(seq)) || undefined, {
      timeoutMs: 10_000,
      what: 'both jobs acked by B',
    });
    // One nak each: a nak while A's pull (2 jobs left) was open would have sent them back to A.
    for (const seq of seqs) expect(acks.kinds(seq), `seq ${seq}`).toEqual(['-NAK', '+ACK']);
    spy.unsubscribe();
    acks.stop();
    await stop(b);
  });

  it('gets its credit back after the broker restarts with its store', async () => {
    await createStream(nc(), 'BACK', 'handover.back.jobs');
    const acks = watchAcks(nc(), 'BACK', 'back');
    const a = worker({ SERVICE: 'back', STREAM: 'BACK', CONSUMER: 'back', BIND: '1' });
    await ready(a);
    // The pull requests A had open are gone with the broker's memory.
    await server().stop();
    await server().restart();
    await a.waitForLog(msg('reconnected to NATS'), { timeoutMs: 15_000 });
    const js = jetstream(nc());
    const seqs = await waitFor(
      async () => {
        const out: number[] = [];
        for (let i = 0; i < 5; i++) out.push((await js.publish('handover.back.jobs', '{}')).seq);
        return out;
      },
      { timeoutMs: 10_000, what: 'the stream back' },
    );
    const published = Date.now();
    await waitFor(() => seqs.every((seq) => acks.acked(seq)) || undefined, {
      timeoutMs: 10_000,
      what: 'the 5 jobs acked',
    });
    expect(acks.troubles(seqs)).toEqual([]);
    const tookMs = Date.now() - published;
    expect(tookMs, `jobs done ${tookMs} ms after they were published`).toBeLessThan(5000);
    acks.stop();
    await stop(a);
  });

  it('gets its credit back after a reconnect during which its pull requests were dropped', async () => {
    await createStream(nc(), 'CUT', 'handover.cut.jobs');
    const acks = watchAcks(nc(), 'CUT', 'cut');
    const link = await startTcpRelay(server().port);
    relays.push(link);
    const a = worker({ SERVICE: 'cut', STREAM: 'CUT', CONSUMER: 'cut', NATS_URL: link.url });
    await ready(a);
    link.cut();
    await a.waitForLog(msg('disconnected from NATS; reconnecting'));
    // Published while A is away: the server meets A's requests with no inbox behind them and
    // drops them without a word. A must notice, or these wait forever.
    const js = jetstream(nc());
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await js.publish('handover.cut.jobs', '{}')).seq);
    const back = await a.waitForLog(msg('reconnected to NATS'), { timeoutMs: 15_000 });
    await waitFor(() => seqs.every((seq) => acks.acked(seq)) || undefined, {
      timeoutMs: 10_000,
      what: 'the 5 jobs acked after the reconnect',
    });
    const tookMs = Date.now() - (back.time as number);
    expect(acks.troubles(seqs)).toEqual([]);
    expect(tookMs, `jobs done ${tookMs} ms after the reconnect`).toBeLessThan(5000);
    acks.stop();
    await stop(a);
  });

  it('drains within its pull expiry of the longest job, idle or busy', async () => {
    await createStream(nc(), 'QUICK', 'handover.quick.jobs');
    const common = { SERVICE: 'quick', STREAM: 'QUICK', CONSUMER: 'quick', CONCURRENCY: '32' };
    const idle = worker({ ...common, HANDOVER_WORKER_ID: 'quick-idle' });
    await ready(idle);
    const idleAt = Date.now();
    await stop(idle);
    const idleMs = (idle.logs.find(msg('stopped'))?.drainMs as number) ?? Date.now() - idleAt;

    const busy = worker({ ...common, HANDOVER_WORKER_ID: 'quick-busy' });
    await ready(busy);
    const js = jetstream(nc());
    for (let i = 0; i < 16; i++)
      await js.publish('handover.quick.jobs', JSON.stringify({ ms: 300 }));
    await waitFor(() => busy.logs.filter(msg('job started')).length === 16 || undefined, {
      what: '16 jobs running',
    });
    const lastStart = Math.max(
      ...busy.logs.filter(msg('job started')).map((l) => l.time as number),
    );
    busy.signal('SIGTERM');
    const exit = await busy.waitForExit();
    expect(exit.code).toBe(0);
    const pastJobsMs = exit.at - (lastStart + 300);
    // The default expiry is 100 ms; generous bounds for a loaded machine.
    expect(idleMs, `idle worker drained in ${idleMs} ms`).toBeLessThan(1500);
    expect(pastJobsMs, `busy worker exited ${pastJobsMs} ms after its last job`).toBeLessThan(1500);
  });

  it('redelivers nothing during a start-first roll of 3 workers under load', async () => {
    await createStream(nc(), 'ROLL', 'handover.roll.jobs');
    const acks = watchAcks(nc(), 'ROLL', 'roll');
    const common = { SERVICE: 'roll', STREAM: 'ROLL', CONSUMER: 'roll' };
    const fleet = [1, 2, 3].map((i) => worker({ ...common, HANDOVER_WORKER_ID: `roll-${i}a` }));
    await Promise.all(fleet.map(ready));
    const load = publishEvery(nc(), 'handover.roll.jobs', 4);
    for (let i = 0; i < 3; i++) {
      const next = worker({ ...common, HANDOVER_WORKER_ID: `roll-${i + 1}b` });
      await ready(next);
      await stop(fleet[i] as Child);
      fleet[i] = next;
    }
    const seqs = await load.stop();
    await waitFor(() => seqs.every((seq) => acks.acked(seq)) || undefined, {
      timeoutMs: 10_000,
      what: 'every job acked',
    });
    expect(seqs.length).toBeGreaterThan(100);
    expect(acks.troubles(seqs), 'jobs nak’ed, redelivered or not acked once').toEqual([]);
    acks.stop();
    for (const child of fleet) await stop(child);
  });
});
