import { createServer, type RequestListener, type Server } from 'node:http';
import { createWorker, type Worker, type WorkerOptions } from '@handover/core';
import { captureLogger } from '@handover/testkit';

export { captureLogger, type LogEntry } from '@handover/testkit';

const workers: Worker[] = [];
const servers: Server[] = [];

/** A worker that owns no process (no signals, no exit), logging into `logger.entries`. */
export function testWorker(options: Partial<WorkerOptions> = {}) {
  const logger = captureLogger();
  const worker = createWorker({
    service: 'http-unit',
    identity: { id: 'w-1', hostname: 'w-1', addresses: ['10.0.0.5'] },
    exit: false,
    signals: [],
    env: {},
    logger,
    ...options,
  });
  workers.push(worker);
  return { worker, logger };
}

/** A server listening on a free 127.0.0.1 port (or `host`); closed after each test. */
export async function listen(
  handler: RequestListener,
  host = '127.0.0.1',
): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

/** Starts listening on a server created elsewhere; closed after each test. */
export async function listenOn(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** Drains every test worker and closes every test server. */
export async function cleanup(): Promise<void> {
  await Promise.all(workers.splice(0).map((worker) => worker.drain('test-cleanup')));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
}
