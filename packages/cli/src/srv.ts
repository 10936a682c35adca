import { describeError } from '@handover/core';
import { type NatsConnection, NoRespondersError, RequestError } from '@nats-io/transport-node';
import { CliError } from './errors.js';

const noResponders = (error: unknown): boolean =>
  error instanceof NoRespondersError || (error instanceof RequestError && error.isNoResponders());

/**
 * Every JSON object answered to a request on `subject` within `waitMs` (the NATS service API's
 * discovery: one request, one answer per instance). Nobody answering ("no responders") is an
 * empty list, not an error (any other failure is); answers that are not JSON objects are
 * skipped.
 */
export async function gather(
  nc: NatsConnection,
  subject: string,
  waitMs: number,
): Promise<Record<string, unknown>[]> {
  const answers: Record<string, unknown>[] = [];
  try {
    const replies = await nc.requestMany(subject, undefined, {
      strategy: 'timer',
      maxWait: waitMs,
    });
    for await (const reply of replies) {
      try {
        const body: unknown = reply.json();
        if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
          answers.push(body as Record<string, unknown>);
        }
      } catch {}
    }
  } catch (error) {
    // "no responders" ends the iteration with an error: nobody answered.
    if (!noResponders(error)) {
      throw new CliError(
        'HANDOVER_E_CLI_BROKER',
        `no answer on ${subject}: ${describeError(error)}`,
        {
          cause: error,
        },
      );
    }
  }
  return answers;
}

/** The instances of `service` that answer `$SRV.PING.<service>` (their micro `id`). */
export async function pingInstances(
  nc: NatsConnection,
  service: string,
  waitMs: number,
): Promise<Set<string>> {
  const answers = await gather(nc, `$SRV.PING.${service}`, waitMs);
  return new Set(
    answers
      .filter((a) => a.type === 'io.nats.micro.v1.ping_response' && a.name === service)
      .map((a) => a.id)
      .filter((id): id is string => typeof id === 'string'),
  );
}
