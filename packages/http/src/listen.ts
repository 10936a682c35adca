import type { Server } from 'node:http';
import { HandoverHttpError } from './errors.js';

/**
 * Listens on `port` (and `host`), rejecting with `HANDOVER_E_LISTEN` when it cannot (port in
 * use, address not available, no permission), with Node's error as `cause`.
 */
export function listen(
  server: Server,
  port: number,
  host: string | undefined,
  what: string,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Only for the listen: an error listener left behind would swallow the server's later
    // errors (they would no longer crash the process, and nobody would hear of them).
    const onError = (error: Error): void =>
      reject(
        new HandoverHttpError(
          'HANDOVER_E_LISTEN',
          `${what} could not listen on ${host ?? '*'}:${port}: ${error.message}`,
          { cause: error },
        ),
      );
    server.once('error', onError);
    server.listen({ port, host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
