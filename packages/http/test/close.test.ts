import { Agent, createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { httpRequest } from '@handover/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { LINGER_MS, QUIET_MS } from '../src/connections.js';
import { attachServer, type HttpServerPort } from '../src/index.js';
import { cleanup, listenOn, testWorker } from './helpers.js';

afterEach(cleanup);

/** A raw keep-alive client: what it received, the errors it saw, when it closed. */
function rawClient(port: number, allowHalfOpen = false) {
  const socket: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen });
  const seen = { text: '', errors: [] as string[], ended: false };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    seen.text += chunk;
  });
  socket.on('error', (error: NodeJS.ErrnoException) => seen.errors.push(error.code ?? 'error'));
  const ended = new Promise<void>((resolve) =>
    socket.once('end', () => {
      seen.ended = true;
      resolve();
    }),
  );
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const responses = (): string[] => seen.text.split(/(?=HTTP\/1\.1 )/).filter(Boolean);
  /** Resolves in the poll phase, right after the socket's data callback. */
  const nextData = (): Promise<void> => new Promise((resolve) => socket.once('data', resolve));
  return { socket, seen, ended, closed, responses, nextData };
}

const get = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const post = 'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}';

/**
 * An attached server answering 201 to each request once its body is read, started, with one
 * request answered: resolves in the poll phase (the answer's data callback), as a SIGTERM
 * handler runs.
 */
async function ordersServerInPollPhase() {
  const { worker } = testWorker();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(201).end('created'));
  });
  const port = attachServer(worker, server);
  const listening = await listenOn(server);
  const client = rawClient(listening);
  await worker.start();
  const first = client.nextData();
  client.socket.write(get);
  await first;
  return { server, port, listening };
}

/** Blocks this process: bytes sent meanwhile wait in the kernel's buffer, unread. */
function spin(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {}
}

/** Closes the server as the worker does after the drain delay (a deadline that never fires). */
function stopIntake(port: HttpServerPort): Promise<void> {
  const stop = port.stopIntake?.bind(port);
  if (stop === undefined) throw new Error('an attached server has stopIntake');
  return stop(new AbortController().signal);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('closing a server without resets', () => {
  it('answers a request already in the kernel buffer of an idle connection when the server closes', async () => {
    const { worker } = testWorker();
    const server = createServer((_req, res) => res.end('ok'));
    const port = attachServer(worker, server);
    const client = rawClient(await listenOn(server));
    await worker.start();
    const first = client.nextData();
    client.socket.write(get);
    await first;
    // The connection is idle as far as Node can tell; its next request reaches the kernel
    // before the server looks again, and the close begins in between.
    port.beginClose();
    client.socket.write(get);
    spin(20);
    await stopIntake(port);
    await client.closed;
    expect(client.seen.errors).toEqual([]);
    const responses = client.responses();
    expect(responses.length, client.seen.text).toBe(2);
    expect(responses[1]).toMatch(/^HTTP\/1.1 200 OK[\s\S]*connection: close[\s\S]*ok$/i);
  });

  it('serves a connection that reached the accept queue while the close began in a poll-phase callback', async () => {
    const { port, listening } = await ordersServerInPollPhase();
    // Here, as in a SIGTERM handler, we run in the poll phase. A balancer's new connection
    // completes its handshake in the kernel before the listener closes (the connect runs on
    // the next tick); its POST follows. Closing at this turn's check phase would reset it.
    const late = rawClient(listening);
    late.socket.write(post);
    await stopIntake(port);
    await late.closed;
    expect(late.seen.errors).toEqual([]);
    expect(late.responses()).toHaveLength(1);
    // Served; before the listener closed (keep-alive, then a FIN once quiet) or after it
    // (`Connection: close`), depending on the turn its request was read in.
    expect(late.responses()[0]).toMatch(/^HTTP\/1.1 201 Created\r\n[\s\S]*created/i);
  });

  it('keeps accepting while connections arrive turn after turn, then closes the listener', async () => {
    const { server, port, listening } = await ordersServerInPollPhase();
    // A balancer's burst: each connection accepted during the close brings the next one, which
    // reaches the accept queue in the turn after (its connect runs on the next tick).
    const burst: ReturnType<typeof rawClient>[] = [];
    const next = (): void => {
      const late = rawClient(listening);
      late.socket.write(post);
      burst.push(late);
    };
    server.on('connection', () => {
      if (burst.length < 3) next();
    });
    next();
    await stopIntake(port);
    await Promise.all(burst.map((late) => late.closed));
    expect(burst).toHaveLength(3);
    for (const late of burst) {
      expect(late.seen.errors).toEqual([]);
      expect(late.responses()).toHaveLength(1);
      expect(late.responses()[0]).toMatch(/^HTTP\/1.1 201 Created\r\n[\s\S]*created/i);
    }
  });

  it('closes the listener after a bounded number of turns when connections never stop arriving', async () => {
    const { worker } = testWorker();
    const server = createServer((_req, res) => res.end('ok'));
    const port = attachServer(worker, server);
    const listening = await listenOn(server);
    await worker.start();
    let accepted = 0;
    const clients: ReturnType<typeof rawClient>[] = [];
    const open = (): void => {
      const c = rawClient(listening);
      c.socket.write(get);
      clients.push(c);
    };
    // Every connection accepted brings another, forever (a balancer without keep-alive).
    server.on('connection', () => {
      accepted++;
      open();
    });
    open();
    await stopIntake(port);
    // Without the bound the close would never end (the test would time out). A turn may
    // accept several of the chain (a connect can complete within the listener's accept loop).
    expect(accepted).toBeGreaterThanOrEqual(2);
    expect(accepted).toBeLessThan(100);
    for (const c of clients) c.socket.destroy();
  });

  it('closes an idle connection with a FIN and reads until the peer closes: a late byte is no reset', async () => {
    const { worker } = testWorker();
    const server = createServer((_req, res) => res.end('ok'));
    const port = attachServer(worker, server);
    const client = rawClient(await listenOn(server), true);
    await worker.start();
    const first = client.nextData();
    client.socket.write(get);
    await first;
    // Idle long enough to be closed at once (the least likely to be picked by a balancer).
    await sleep(QUIET_MS + 50);
    const closing = stopIntake(port);
    await client.ended;
    // A request that crossed the server's FIN: its bytes arrive at a closing socket.
    client.socket.write('GET / HTTP/1.1\r\n');
    await sleep(50);
    const written = new Promise<string>((resolve) =>
      client.socket.write('Host: x\r\n', (error) =>
        resolve((error as NodeJS.ErrnoException | undefined)?.code ?? 'ok'),
      ),
    );
    expect(await written).toBe('ok');
    client.socket.end();
    await client.closed;
    await closing;
    expect(client.seen.errors).toEqual([]);
    expect(client.responses().length).toBe(1);
  });

  it('destroys a connection whose peer never answers the FIN after the linger', async () => {
    const { worker, logger } = testWorker();
    const server = createServer((_req, res) => res.end('ok'));
    const port = attachServer(worker, server);
    const client = rawClient(await listenOn(server), true);
    await worker.start();
    const first = client.nextData();
    client.socket.write(get);
    await first;
    await sleep(QUIET_MS + 50);
    const started = Date.now();
    // Resolves once the server has no connection left.
    await stopIntake(port);
    const closedMs = Date.now() - started;
    expect(client.seen.ended, 'the server sent its FIN first').toBe(true);
    client.socket.destroy();
    // The linger is bounded: well before any drain deadline.
    expect(closedMs, `closed after ${closedMs} ms`).toBeGreaterThanOrEqual(LINGER_MS - 50);
    expect(closedMs, `closed after ${closedMs} ms`).toBeLessThan(LINGER_MS + 1000);
    const report = logger.entries.find((e) => e.message === 'server closed');
    expect(report?.fields).toMatchObject({ destroyedConnections: 0 });
  });

  it('says Connection: close from the drain only when a drain delay comes before the close', async () => {
    for (const drainDelayMs of [0, 500]) {
      const { worker } = testWorker({ drainDelayMs });
      const server = createServer((_req, res) => res.end('ok'));
      const port = attachServer(worker, server);
      const tcpPort = await listenOn(server);
      await worker.start();
      // The drain's first step, on its own: without a delay the listener closes next, and a
      // Connection: close now would only send the client back to a listener about to close.
      port.draining?.({ reason: 'test', failed: false });
      const agent = new Agent({ keepAlive: true });
      const during = await httpRequest({ port: tcpPort, agent });
      agent.destroy();
      expect(during.headers.connection, `drainDelayMs ${drainDelayMs}`).toBe(
        drainDelayMs === 0 ? 'keep-alive' : 'close',
      );
    }
  });
});
