import { describeError, type Logger } from '@handover/core';
import type { NatsConnection } from '@nats-io/transport-node';

/** What the adapter does when the connection comes and goes. */
export interface StatusHandlers {
  disconnected(): void;
  reconnected(): void;
  /** The server entered lame-duck mode (it is shutting down); unset: only logged. */
  lameDuck?: (() => void) | undefined;
}

/**
 * Follows the connection's status events until the returned function is called (the adapter
 * closes) or the connection closes. A connection the user passed in outlives the worker, so
 * its status stream must be stopped explicitly.
 */
export function watchStatus(
  nc: NatsConnection,
  logger: Logger,
  handlers: StatusHandlers,
): () => void {
  const statuses = nc.status();
  void (async () => {
    for await (const status of statuses) {
      if (status.type === 'disconnect') {
        handlers.disconnected();
        logger.warn({ server: status.server }, 'disconnected from NATS; reconnecting');
      } else if (status.type === 'reconnect') {
        handlers.reconnected();
        logger.info({ server: status.server }, 'reconnected to NATS');
      } else if (status.type === 'ldm') {
        logger.warn(
          { server: status.server, reconnecting: handlers.lameDuck !== undefined },
          'the NATS server is shutting down (lame duck mode)',
        );
        handlers.lameDuck?.();
      } else if (status.type === 'error') {
        logger.warn({ error: describeError(status.error) }, 'NATS connection error');
      }
    }
  })()
    .catch((error: unknown) =>
      logger.warn({ error: describeError(error) }, 'NATS status watch failed'),
    )
    .finally(() => logger.debug({}, 'stopped watching the NATS connection status'));
  // nats.js's status iterator has `stop()`; its type only says AsyncIterable.
  return () => (statuses as { stop?: () => void }).stop?.();
}
