import { JetStreamApiError } from '@nats-io/jetstream';

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** An error as a short stable key: class, JetStream code, message, and its cause's message. */
export function errorKey(error: unknown): string {
  const e = error as Error;
  if (error instanceof JetStreamApiError) return `${e.name} ${error.code}: ${e.message}`;
  const cause = e.cause instanceof Error ? ` <- ${e.cause.message}` : '';
  return `${e.name}: ${e.message}${cause}`;
}
