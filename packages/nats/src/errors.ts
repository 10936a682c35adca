import { HandoverError, HandoverOptionError } from '@handover/core';

/**
 * Every error code `@handover/nats` can raise. `docs/errors.md` documents each one; a test
 * fails when the two disagree.
 */
export const natsErrorCodes = [
  // Shared with core: a bad option is the same mistake in every package.
  'HANDOVER_E_INVALID_OPTION',
  'HANDOVER_E_NATS_CONNECT',
  'HANDOVER_E_NATS_UNSUPPORTED_SERVER',
  'HANDOVER_E_NATS_REGISTRY',
  'HANDOVER_E_NATS_DUPLICATE_ID',
  'HANDOVER_E_NATS_JETSTREAM',
  'HANDOVER_E_NATS_TASK',
  'HANDOVER_E_NATS_REQUEST_FAILED',
  'HANDOVER_E_NATS_REQUEST_TIMEOUT',
  'HANDOVER_E_NATS_PUBLISH_FAILED',
] as const;

/** A stable error code of `@handover/nats`. */
export type NatsErrorCode = Exclude<(typeof natsErrorCodes)[number], 'HANDOVER_E_INVALID_OPTION'>;

/** An error of the NATS adapter or the controller client, with a stable `code`. */
export class NatsAdapterError extends HandoverError<NatsErrorCode> {
  constructor(code: NatsErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(code, message, options);
    this.name = 'NatsAdapterError';
  }
}

/**
 * Throw from a task handler to answer with a chosen service error code and message (the
 * `Nats-Service-Error-Code` and `Nats-Service-Error` headers), e.g. `400` for a payload that
 * fails validation. Any other error is answered `500` with a generic message, and logged.
 */
export class TaskError extends HandoverError<'HANDOVER_E_NATS_TASK'> {
  /** The service error code sent to the requester, e.g. 400. */
  readonly status: number;

  constructor(status: number, message: string, options?: { readonly cause?: unknown }) {
    super('HANDOVER_E_NATS_TASK', message, options);
    this.name = 'TaskError';
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw HandoverOptionError.expected('status', 'an integer from 100 to 599', status);
    }
    this.status = status;
  }
}
