import { type Msg, headers as natsHeaders } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent, type WorkerEvent } from '../src/exports/wire.js';
import { openBucket, ready, useNats } from './helpers.js';

const { nc, worker } = useNats();

const status = (reply: Msg) => ({
  code: reply.headers?.get('Nats-Service-Error-Code') ?? '',
  message: reply.headers?.get('Nats-Service-Error') ?? '',
});

describe('hostile worker ids', () => {
  const cases: [string, string][] = [
    ['a.b', 'a_b'],
    ['*', '_'],
    ['>', '_'],
    ['has spaces', 'has_spaces'],
  ];

  it.each(cases)('turns %j into the key and subject token %j', async (raw, safe) => {
    const events: { subject: string; event: WorkerEvent | undefined }[] = [];
    const sub = nc().subscribe('handover.hostile.events.>', {
      callback: (_e, m) => {
        events.push({ subject: m.subject, event: parseEvent(m.data) });
      },
    });
    const child = worker({ SERVICE: 'hostile', HANDOVER_WORKER_ID: raw });
    await ready(child);
    const kv = await openBucket(nc(), 'handover_hostile');
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    expect(keys).toContain(safe);
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
    sub.unsubscribe();
    const subjects = [...new Set(events.map((e) => e.subject))];
    expect(subjects).toEqual([`handover.hostile.events.${safe}`]);
    expect(subjects[0]?.split('.')).toHaveLength(4);
    expect(events.map((e) => e.event?.type)).toEqual(['ready', 'draining', 'stopped']);
    expect(events.every((e) => e.event?.id === safe)).toBe(true);
  });
});

describe('hostile payloads', () => {
  let child: ReturnType<typeof worker>;
  beforeAll(async () => {
    child = worker({
      SERVICE: 'payloads',
      HANDOVER_WORKER_ID: 'payloads-1',
      MAX_PAYLOAD_BYTES: '1024',
    });
    await ready(child);
  });
  afterAll(async () => {
    child.signal('SIGTERM');
    await child.waitForExit();
  });
  const ask = (data: Uint8Array | string, headers?: Record<string, string>) => {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(headers ?? {})) h.set(k, v);
    return nc().request('handover.payloads.tasks', data, { timeout: 5000, headers: h });
  };

  it('answers a payload that is not JSON with 400', async () => {
    expect(status(await ask('{not json'))).toEqual({
      code: '400',
      message: 'payload could not be decoded',
    });
  });

  it('answers bytes that are not UTF-8 with 400', async () => {
    expect(status(await ask(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).code).toBe('400');
  });

  it('answers a payload over maxPayloadBytes with 413 and the sizes', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(2000) });
    expect(status(await ask(big))).toEqual({
      code: '413',
      message: `payload too large: ${big.length} bytes, limit 1024`,
    });
  });

  it('answers 504 without running a task whose caller deadline has passed', async () => {
    const reply = await ask('{"ms":0}', { 'Handover-Deadline': String(Date.now() - 1) });
    expect(status(reply).code).toBe('504');
  });

  it('answers 504 to a task whose caller deadline passed while it waited in the queue', async () => {
    const single = worker({ SERVICE: 'queued', HANDOVER_WORKER_ID: 'queued-1', CONCURRENCY: '1' });
    await ready(single);
    const h = natsHeaders();
    h.set('Handover-Deadline', String(Date.now() + 200));
    const busy = nc().request('handover.queued.tasks', '{"ms":600}', { timeout: 5000 });
    const late = nc().request('handover.queued.tasks', '{"ms":0}', { timeout: 5000, headers: h });
    expect(status(await late)).toEqual({
      code: '504',
      message: 'the caller deadline passed before the task started',
    });
    expect((await busy).json()).toMatchObject({ worker: 'queued-1' });
    single.signal('SIGTERM');
    await single.waitForExit();
  });

  it('answers 400 to a malformed deadline header', async () => {
    expect(status(await ask('{}', { 'Handover-Deadline': 'tomorrow' })).code).toBe('400');
  });

  it('answers a handler error with 500 and a generic message, logging the details', async () => {
    const reply = await ask(JSON.stringify({ fail: 'throw' }), {
      'Handover-Request-Id': 'req-500',
    });
    expect(status(reply)).toEqual({ code: '500', message: 'task handler failed' });
    expect(reply.headers?.get('Handover-Request-Id')).toBe('req-500');
    const logged = await child.waitForLog(
      (l) => l.msg === 'task handler failed' && l.requestId === 'req-500',
    );
    expect(JSON.stringify(logged)).toContain('internal detail');
  });

  it("answers a TaskError with the handler's own status and message", async () => {
    expect(status(await ask(JSON.stringify({ fail: 'task-error' })))).toEqual({
      code: '422',
      message: 'order rejected',
    });
  });

  it('echoes the request id on success and keeps serving after bad input', async () => {
    const reply = await ask('{"ok":true}', { 'Handover-Request-Id': 'req-ok' });
    expect(reply.headers?.has('Nats-Service-Error-Code')).toBe(false);
    expect(reply.headers?.get('Handover-Request-Id')).toBe('req-ok');
    expect(reply.json()).toMatchObject({
      echo: { ok: true },
      worker: 'payloads-1',
      requestId: 'req-ok',
    });
  });

  it('refuses to publish a payload over the server max_payload with a clear client error', async () => {
    const huge = new Uint8Array((nc().info?.max_payload ?? 1024 * 1024) + 1);
    await expect(ask(huge)).rejects.toThrow(/max_payload|payload/i);
  });
});
