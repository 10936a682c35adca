import type { WorkerSnapshot } from '@handover/core';
import { describe, expect, it } from 'vitest';
import { buildEntry, buildEvent, encodeJson, isStale, parseEntry, parseEvent } from './wire.js';

const snapshot: WorkerSnapshot = {
  service: 'orders',
  id: 'w-1',
  instance: 'NUIDx8Jd3kq0000000000',
  version: '1.4.2',
  hostname: 'w-1',
  addresses: ['172.18.0.5'],
  pid: 1,
  metadata: { region: 'eu' },
  state: 'ready',
  startedAt: Date.parse('2026-11-22T10:00:00.000Z'),
  readyAt: Date.parse('2026-11-22T10:00:01.250Z'),
  inflight: 3,
  concurrency: 8,
  http: 'http://172.18.0.5:3000',
};
const now = Date.parse('2026-11-22T10:00:07.250Z');
const entry = buildEntry(snapshot, {
  now,
  heartbeatMs: 1000,
  endpoints: { tasks: 'handover.orders.tasks' },
  state: 'ready',
});

describe('buildEntry', () => {
  it('writes the entry of PROTOCOL.md field for field', () => {
    expect(entry).toEqual({
      schema: 'handover.worker.v1',
      service: 'orders',
      id: 'w-1',
      instance: 'NUIDx8Jd3kq0000000000',
      version: '1.4.2',
      state: 'ready',
      hostname: 'w-1',
      addresses: ['172.18.0.5'],
      pid: 1,
      startedAt: '2026-11-22T10:00:00.000Z',
      readyAt: '2026-11-22T10:00:01.250Z',
      heartbeatAt: '2026-11-22T10:00:07.250Z',
      heartbeatMs: 1000,
      inflight: 3,
      concurrency: 8,
      endpoints: { tasks: 'handover.orders.tasks' },
      http: 'http://172.18.0.5:3000',
      metadata: { region: 'eu' },
    });
  });

  it('leaves http out for a worker that serves no HTTP', () => {
    const plain = buildEntry(
      { ...snapshot, http: undefined },
      { now, heartbeatMs: 1000, endpoints: {}, state: 'draining' },
    );
    expect('http' in plain).toBe(false);
    expect(plain.state).toBe('draining');
  });
});

describe('parseEntry', () => {
  it('round-trips a built entry', () => {
    expect(parseEntry(encodeJson(entry))).toEqual(entry);
  });

  it.each([
    ['not JSON', new TextEncoder().encode('{')],
    ['invalid UTF-8', new Uint8Array([0xff, 0xfe])],
    ['another schema', encodeJson({ ...entry, schema: 'other.v1' })],
    ['an unknown state', encodeJson({ ...entry, state: 'stopped' })],
    ['a bad heartbeatAt', encodeJson({ ...entry, heartbeatAt: 'yesterday' })],
    ['a zero heartbeat', encodeJson({ ...entry, heartbeatMs: 0 })],
    ['non-string metadata', encodeJson({ ...entry, metadata: { n: 1 } })],
    ['a missing id', encodeJson({ ...entry, id: undefined })],
    ['an array', encodeJson([entry])],
  ])('rejects %s', (_name, data) => {
    expect(parseEntry(data)).toBeUndefined();
  });
});

describe('isStale', () => {
  it('is stale only after 3 x heartbeatMs without a heartbeat', () => {
    const at = Date.parse(entry.heartbeatAt);
    expect(isStale(entry, at + 3000)).toBe(false);
    expect(isStale(entry, at + 3001)).toBe(true);
  });
});

describe('events', () => {
  it('builds and parses each event type with its details', () => {
    const stopped = buildEvent(snapshot, 'stopped', now, { drainMs: 1200, abandoned: 0 });
    expect(stopped).toEqual({
      schema: 'handover.event.v1',
      type: 'stopped',
      service: 'orders',
      id: 'w-1',
      instance: 'NUIDx8Jd3kq0000000000',
      version: '1.4.2',
      at: '2026-11-22T10:00:07.250Z',
      drainMs: 1200,
      abandoned: 0,
    });
    expect(parseEvent(encodeJson(stopped))).toEqual(stopped);
    expect(parseEvent(encodeJson({ ...stopped, type: 'exploded' }))).toBeUndefined();
  });
});

describe('jsonCodec', () => {
  it('turns no result into no bytes and no bytes into undefined', async () => {
    const { jsonCodec } = await import('./codec.js');
    expect(jsonCodec.encode(undefined)).toHaveLength(0);
    expect(jsonCodec.decode(new Uint8Array(0))).toBeUndefined();
    expect(jsonCodec.decode(new TextEncoder().encode('{"a":1}'))).toEqual({ a: 1 });
  });
});
