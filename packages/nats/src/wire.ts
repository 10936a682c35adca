import type { WorkerSnapshot } from '@handover/core';
import { schemas } from './names.js';

/** A worker's registry entry (docs/protocol.md, "Registry"): the value under key `<id>`. */
export interface WorkerEntry {
  readonly schema: typeof schemas.worker;
  readonly service: string;
  readonly id: string;
  readonly instance: string;
  readonly version: string;
  /** A stopped worker has no entry. */
  readonly state: 'ready' | 'draining';
  readonly hostname: string;
  readonly addresses: readonly string[];
  readonly pid: number;
  /** ISO 8601 times. */
  readonly startedAt: string;
  readonly readyAt: string;
  readonly heartbeatAt: string;
  readonly heartbeatMs: number;
  readonly inflight: number;
  readonly concurrency: number;
  /** Subjects work can be sent to: `tasks` for request/reply, `jobs` for JetStream. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** Present only when the worker serves HTTP. */
  readonly http?: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The types of lifecycle events (docs/protocol.md, "Events"). */
export type WorkerEventType = 'ready' | 'draining' | 'stopped' | 'failed';

/** A lifecycle event, published on `<prefix>.<svc>.events.<id>`. */
export interface WorkerEvent {
  readonly schema: typeof schemas.event;
  readonly type: WorkerEventType;
  readonly service: string;
  readonly id: string;
  readonly instance: string;
  readonly version: string;
  readonly at: string;
  /** On `draining` and `failed`: `SIGTERM`, `drain-endpoint`, `api`, `uncaughtException`, ... */
  readonly reason?: string;
  /** On `stopped`: milliseconds from the start of the drain to deregistration. */
  readonly drainMs?: number;
  /** On `stopped`: tasks cut off at the deadline (normally 0). */
  readonly abandoned?: number;
}

const iso = (ms: number | undefined, fallback: number): string =>
  new Date(ms ?? fallback).toISOString();

/** The entry for `snapshot`, written at `now`. */
export function buildEntry(
  snapshot: WorkerSnapshot,
  extra: {
    readonly now: number;
    readonly heartbeatMs: number;
    readonly endpoints: Readonly<Record<string, string>>;
    readonly state: WorkerEntry['state'];
  },
): WorkerEntry {
  return {
    schema: schemas.worker,
    service: snapshot.service,
    id: snapshot.id,
    instance: snapshot.instance,
    version: snapshot.version,
    state: extra.state,
    hostname: snapshot.hostname,
    addresses: snapshot.addresses,
    pid: snapshot.pid,
    startedAt: iso(snapshot.startedAt, extra.now),
    readyAt: iso(snapshot.readyAt, extra.now),
    heartbeatAt: iso(extra.now, extra.now),
    heartbeatMs: extra.heartbeatMs,
    inflight: snapshot.inflight,
    concurrency: snapshot.concurrency,
    endpoints: extra.endpoints,
    ...(snapshot.http === undefined ? {} : { http: snapshot.http }),
    metadata: snapshot.metadata,
  };
}

/** The event of `type` for `snapshot`. */
export function buildEvent(
  snapshot: Pick<WorkerSnapshot, 'service' | 'id' | 'instance' | 'version'>,
  type: WorkerEventType,
  at: number,
  details: Pick<WorkerEvent, 'reason' | 'drainMs' | 'abandoned'> = {},
): WorkerEvent {
  return {
    schema: schemas.event,
    type,
    service: snapshot.service,
    id: snapshot.id,
    instance: snapshot.instance,
    version: snapshot.version,
    at: new Date(at).toISOString(),
    ...details,
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export const encodeJson = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

/** Parses UTF-8 JSON; throws on invalid UTF-8 or JSON. */
export const decodeJson = (data: Uint8Array): unknown => JSON.parse(decoder.decode(data));

/** A JSON object from UTF-8 bytes, or `undefined` for anything else. */
function decodeObject(data: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value = decodeJson(data);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isString);

/**
 * Parses and checks a registry entry (controller side). Returns `undefined` for anything that
 * is not a well-formed `handover.worker.v1` entry: readers skip it rather than trust it.
 */
export function parseEntry(data: Uint8Array): WorkerEntry | undefined {
  const e = decodeObject(data);
  if (!e) return undefined;
  const ok =
    e.schema === schemas.worker &&
    [e.service, e.id, e.instance, e.version, e.hostname, e.startedAt, e.readyAt].every(isString) &&
    (e.state === 'ready' || e.state === 'draining') &&
    Array.isArray(e.addresses) &&
    e.addresses.every(isString) &&
    isCount(e.pid) &&
    isString(e.heartbeatAt) &&
    !Number.isNaN(Date.parse(e.heartbeatAt)) &&
    isCount(e.heartbeatMs) &&
    (e.heartbeatMs as number) > 0 &&
    isCount(e.inflight) &&
    isCount(e.concurrency) &&
    isStringMap(e.endpoints) &&
    isStringMap(e.metadata) &&
    (e.http === undefined || isString(e.http));
  return ok ? (e as unknown as WorkerEntry) : undefined;
}

/** Parses and checks a lifecycle event; `undefined` if malformed. */
export function parseEvent(data: Uint8Array): WorkerEvent | undefined {
  const e = decodeObject(data);
  if (!e) return undefined;
  const ok =
    e.schema === schemas.event &&
    ['ready', 'draining', 'stopped', 'failed'].includes(e.type as string) &&
    [e.service, e.id, e.instance, e.version, e.at].every(isString);
  return ok ? (e as unknown as WorkerEvent) : undefined;
}

/** Whether an entry's heartbeat is older than 3 × its interval at `now` (docs/protocol.md). */
export function isStale(
  entry: Pick<WorkerEntry, 'heartbeatAt' | 'heartbeatMs'>,
  now: number,
): boolean {
  return now - Date.parse(entry.heartbeatAt) > 3 * entry.heartbeatMs;
}
