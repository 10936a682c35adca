import type { HandoverOptionError } from '@handover/core';
import { invalidOption } from './validate.js';

/** Subject tokens, NATS-safe and never a wildcard: the prefix is one or more of these, dotted. */
const prefixPattern = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** The default subject prefix. */
export const defaultPrefix = 'handover';

/** Schema tags of the JSON documents (docs/protocol.md). */
export const schemas = {
  worker: 'handover.worker.v1',
  event: 'handover.event.v1',
} as const;

/** Header names of the protocol. */
export const headerNames = {
  requestId: 'Handover-Request-Id',
  deadline: 'Handover-Deadline',
  serviceError: 'Nats-Service-Error',
  serviceErrorCode: 'Nats-Service-Error-Code',
} as const;

/** Every subject and name of one service, built from validated tokens only. */
export interface ServiceNames {
  readonly prefix: string;
  readonly service: string;
  /** `handover_<svc>` */
  readonly bucket: string;
  /** `<prefix>.<svc>.tasks` */
  readonly tasks: string;
  /** The queue group of the task subscription: `<svc>`. */
  readonly queue: string;
  /** `<prefix>.<svc>.jobs`: the subject of a JetStream stream the worker creates. */
  readonly jobs: string;
  /** `<prefix>.<svc>.events.<id>` */
  events(id: string): string;
  /** `<prefix>.<svc>.events.>` */
  readonly allEvents: string;
}

/** Validates a subject prefix; returns an error instead of throwing, for the caller to raise. */
export function checkPrefix(prefix: unknown): HandoverOptionError | undefined {
  if (typeof prefix === 'string' && prefixPattern.test(prefix)) return undefined;
  return invalidOption('prefix', prefix, 'dot-separated tokens of [A-Za-z0-9_-], such as handover');
}

/** The names of `service` under `prefix` (both already validated). */
export function serviceNames(service: string, prefix: string = defaultPrefix): ServiceNames {
  const base = `${prefix}.${service}`;
  return {
    prefix,
    service,
    bucket: `handover_${service}`,
    tasks: `${base}.tasks`,
    queue: service,
    jobs: `${base}.jobs`,
    events: (id) => `${base}.events.${id}`,
    allEvents: `${base}.events.>`,
  };
}
