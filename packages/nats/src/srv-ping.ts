import type { NatsConnection } from '@nats-io/transport-node';

/**
 * The instances of `service` that answer `$SRV.PING.<svc>` within `timeoutMs` (the `id` of
 * each micro protocol ping response). Core NATS keeps working while JetStream elects a leader,
 * so this tells a stalled registry from dead workers (PROTOCOL.md, Registry). Resolves with
 * an empty set when nobody answers, and never rejects on "no responders".
 */
export async function pingInstances(
  nc: NatsConnection,
  service: string,
  timeoutMs = 500,
): Promise<Set<string>> {
  const alive = new Set<string>();
  let replies: AsyncIterable<{ json<T>(): T }>;
  try {
    replies = await nc.requestMany(`$SRV.PING.${service}`, undefined, {
      strategy: 'timer',
      maxWait: timeoutMs,
    });
  } catch {
    return alive;
  }
  try {
    for await (const reply of replies) {
      try {
        const body = reply.json<{ type?: unknown; name?: unknown; id?: unknown }>();
        if (
          body.type === 'io.nats.micro.v1.ping_response' &&
          body.name === service &&
          typeof body.id === 'string'
        ) {
          alive.add(body.id);
        }
      } catch {}
    }
  } catch {
    // "no responders" ends the iteration with an error: nobody is alive.
  }
  return alive;
}
