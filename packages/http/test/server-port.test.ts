import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isHandoverError, type PortContext } from '@handover/core';
import { httpRequest, waitFor } from '@handover/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { attachServer, closingSignal, createProbeHandler } from '../src/index.js';
import { cleanup, listenOn, testWorker } from './helpers.js';

afterEach(cleanup);

/** Opens a raw connection and sends an Upgrade request; resolves once the 101 arrived. */
function upgrade(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
    });
    socket.once('data', (data) =>
      String(data).startsWith('HTTP/1.1 101') ? resolve(socket) : reject(new Error(String(data))),
    );
    socket.on('error', () => {});
  });
}

function closed(socket: Socket): Promise<number> {
  return new Promise((resolve) => socket.once('close', () => resolve(Date.now())));
}

describe('attachServer', () => {
  it('counts requests as in-flight work, but not probes', async () => {
    const { worker } = testWorker();
    const probes = createProbeHandler(worker);
    let seen: string[] = [];
    let inflightAfterProbe = -1;
    const server = createServer((req, res) => {
      if (probes(req, res)) {
        inflightAfterProbe = worker.inflight;
        return;
      }
      // As a framework's router does: the list shows the request as it arrived.
      req.url = '/rewritten';
      seen = worker.tasks().map((t) => `${t.name} ${t.key}`);
      res.end();
    });
    attachServer(worker, server);
    const port = await listenOn(server);
    await httpRequest({ port, path: '/orders/1?x=secret' });
    expect(seen).toEqual(['http:GET /orders/1']);
    await httpRequest({ port, path: '/readyz' });
    expect(inflightAfterProbe).toBe(0);
    expect(worker.inflight).toBe(0);
  });

  it('counts pipelined requests, and lets them go when the client leaves before their answers', async () => {
    const { worker } = testWorker();
    const probes = createProbeHandler(worker);
    const server = createServer((req, res) => {
      if (probes(req, res)) return;
      // The first never answers; Node queues the answers of the others behind it, and (on
      // Node 20) never closes them when the socket goes.
      if (req.url !== '/first') res.end('later');
    });
    attachServer(worker, server);
    const port = await listenOn(server);
    await worker.start();
    const client = connect(port, '127.0.0.1', () =>
      client.write(
        ['/first', '/readyz', '/second']
          .map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`)
          .join(''),
      ),
    );
    client.on('error', () => {});
    await waitFor(() => worker.inflight === 2, { what: 'the two pipelined requests to count' });
    expect(worker.tasks().map((t) => t.name)).toEqual(['http:GET', 'http:GET']);
    client.destroy();
    await waitFor(() => worker.inflight === 0, {
      what: 'the pipelined requests to leave the count',
    });
    const result = await worker.drain();
    expect(result).toMatchObject({ exitCode: 0, abandoned: [] });
  });

  it('counts keep-alive requests without a listener each until the drain, which waits for the one in flight', async () => {
    const { worker } = testWorker();
    const seen: { inflight: number; closeListeners: number }[] = [];
    let answerSlow: (() => void) | undefined;
    let slowClosing: AbortSignal | undefined;
    const server = createServer((req, res) => {
      // The port's `request` listener ran first: a `close` listener of its own would show here.
      seen.push({ inflight: worker.inflight, closeListeners: res.listenerCount('close') });
      if (req.url !== '/slow') {
        res.end('ok');
        return;
      }
      slowClosing = closingSignal(req);
      answerSlow = () => res.end('slow');
    });
    attachServer(worker, server);
    const port = await listenOn(server);
    await worker.start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (const path of ['/a', '/b', '/c']) {
      const { reusedSocket } = await httpRequest({ port, path, agent });
      // Each request on the one connection ended, and the next one finds it so.
      expect(reusedSocket).toBe(path !== '/a');
      expect(worker.inflight).toBe(0);
    }
    expect(seen).toEqual(Array(3).fill({ inflight: 1, closeListeners: 0 }));
    const slow = httpRequest({ port, path: '/slow', agent });
    await waitFor(() => answerSlow !== undefined, { what: 'the slow request to arrive' });
    expect(worker.inflight).toBe(1);
    expect(worker.tasks().map((t) => `${t.name} ${t.key}`)).toEqual(['http:GET /slow']);
    let drained = false;
    const drain = worker.drain().then((result) => {
      drained = true;
      return result;
    });
    // The server is closing (the drain is past its delay and waits for the work in flight): a
    // drain that did not know of the request would be done a few turns from here.
    await waitFor(() => slowClosing?.aborted === true, { what: 'the server to start closing' });
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    // Watched from the drain on: counted as it was, and counted off when it ends.
    expect(worker.inflight).toBe(1);
    answerSlow?.();
    expect((await slow).body).toBe('slow');
    expect(await drain).toMatchObject({ exitCode: 0, abandoned: [] });
    expect(worker.inflight).toBe(0);
    agent.destroy();
  });

  it('holds no answered request or response while its keep-alive connection is idle', async () => {
    // A connection waiting for its next request must not keep the last one alive (its headers,
    // and whatever the app hung on it: a parsed body, a user); without Handover it dies young.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { worker } = testWorker();
    const collected = new Set<string>();
    const registry = new FinalizationRegistry<string>((what) => collected.add(what));
    const server = createServer((req, res) => {
      registry.register(req, 'request');
      registry.register(res, 'response');
      (req as IncomingMessage & { body?: unknown }).body = { payload: 'x'.repeat(1 << 20) };
      res.end('ok');
    });
    // Node closes an idle connection after its keep-alive timeout, which would free the pair
    // whatever the port holds: keep the connection open for longer than the test waits.
    server.keepAliveTimeout = 60_000;
    attachServer(worker, server);
    const port = await listenOn(server);
    await worker.start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await httpRequest({ port, path: '/a', agent });
    expect(worker.inflight).toBe(0);
    await waitFor(
      () => {
        gc();
        return collected.size === 2;
      },
      { what: 'the answered request and response to be collected', timeoutMs: 5_000 },
    );
    // The connection was idle and open throughout, and still serves.
    const { reusedSocket } = await httpRequest({ port, path: '/b', agent });
    expect(reusedSocket).toBe(true);
    expect(worker.tasks()).toEqual([]);
    agent.destroy();
  });

  it("runs ahead of the app's handler in one listener that stands for the handler", async () => {
    /** A server attached to a fresh worker; its handler notes what it saw. */
    const attached = async () => {
      const { worker } = testWorker();
      const seen: string[] = [];
      const handler = (req: IncomingMessage, res: ServerResponse): void => {
        seen.push(`${req.url} ${worker.inflight}`);
        res.end('ok');
      };
      const server = createServer(handler);
      attachServer(worker, server);
      const port = await listenOn(server);
      return { worker, seen, handler, server, port };
    };

    const plain = await attached();
    // One listener, shown as the app's own (as a `once` wrapper is).
    expect(plain.server.rawListeners('request')).toHaveLength(1);
    expect(plain.server.listeners('request')).toEqual([plain.handler]);
    expect(plain.server.listenerCount('request')).toBe(1);
    await httpRequest({ port: plain.port, path: '/a' });
    // Counted before the handler ran, once.
    expect(plain.seen).toEqual(['/a 1']);

    // The app swaps its handler: the new one serves, and requests are still counted.
    const swapped = await attached();
    swapped.server.removeListener('request', swapped.handler);
    swapped.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      swapped.seen.push(`other ${req.url} ${swapped.worker.inflight}`);
      res.end('other');
    });
    expect(swapped.server.listeners('request')).toHaveLength(2);
    expect((await httpRequest({ port: swapped.port, path: '/b' })).body).toBe('other');
    expect(swapped.seen).toEqual(['other /b 1']);

    // A library that takes over dispatch (as engine.io does) re-sends what is not its own to
    // the listeners it took (the app's handler): each request is still counted once, by
    // Handover's listener, which came back on its own.
    const taken = await attached();
    const listeners = taken.server.listeners('request') as ((...args: unknown[]) => void)[];
    taken.server.removeAllListeners('request');
    expect(taken.server.listenerCount('request')).toBe(1);
    taken.server.on('request', (req, res) => {
      for (const listener of listeners) listener.call(taken.server, req, res);
    });
    await httpRequest({ port: taken.port, path: '/c' });
    expect(taken.seen).toEqual(['/c 1']);

    for (const { worker } of [plain, swapped, taken]) {
      expect(worker.inflight).toBe(0);
      expect(await worker.drain()).toMatchObject({ exitCode: 0, abandoned: [] });
    }
  });

  it('listens on its own, first, to a server with no handler or several listeners', async () => {
    for (const listeners of [0, 2]) {
      const { worker } = testWorker();
      const seen: number[] = [];
      const server = createServer();
      for (let i = 0; i < listeners; i++) server.on('request', () => seen.push(worker.inflight));
      attachServer(worker, server);
      server.on('request', (_req, res) => {
        seen.push(worker.inflight);
        res.end();
      });
      expect(server.rawListeners('request')).toHaveLength(listeners + 2);
      const port = await listenOn(server);
      await httpRequest({ port, path: '/' });
      expect(seen).toEqual(Array(listeners + 1).fill(1));
      expect(worker.inflight).toBe(0);
    }
  });

  it('logs the request in flight as busy when its app closes the server before any drain', async () => {
    const { worker, logger } = testWorker();
    let answer: (() => void) | undefined;
    const server = createServer((req, res) => {
      if (req.url === '/slow') answer = () => res.end('slow');
      else res.end('ok');
    });
    const port = attachServer(worker, server);
    const listening = await listenOn(server);
    await worker.start();
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    await httpRequest({ port: listening, path: '/a', agent });
    const slow = httpRequest({ port: listening, path: '/slow', agent });
    await waitFor(() => answer !== undefined, { what: 'the slow request to arrive' });
    // As the Fastify plugin's preClose hook does when the app calls fastify.close().
    port.beginClose();
    const closing = logger.entries.find((e) => e.message === 'server closing');
    expect(closing?.fields).toMatchObject({ busy: 1, idle: 0 });
    answer?.();
    expect((await slow).body).toBe('slow');
    agent.destroy();
  });

  it('stops counting a request whose client goes away under it, and times every request', async () => {
    const { worker } = testWorker();
    let context!: PortContext;
    worker.use({ kind: 'extension', name: 'stats', attach: (c) => (context = c) });
    context.enableStats();
    const hung: IncomingMessage[] = [];
    const probes = createProbeHandler(worker);
    const server = createServer((req, res) => {
      if (probes(req, res)) return;
      if (req.url === '/hang') hung.push(req);
      else setTimeout(() => res.end('ok'), 20);
    });
    attachServer(worker, server);
    const port = await listenOn(server);
    await worker.start();
    await Promise.all([1, 2, 3].map(() => httpRequest({ port, path: '/quick' })));
    // Probes are not the worker's work: not timed either.
    await httpRequest({ port, path: '/livez' });
    // A client that sends a request and leaves before the answer: Node closes the response
    // after the socket, and the request must still leave the count.
    const client = connect(port, '127.0.0.1', () =>
      client.write('POST /hang HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'),
    );
    client.on('error', () => {});
    await waitFor(() => worker.inflight === 1, { what: 'the hung request to be counted' });
    expect(worker.tasks().map((t) => `${t.name} ${t.key}`)).toEqual(['http:POST /hang']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.destroy();
    await waitFor(() => worker.inflight === 0, { what: 'the hung request to leave the count' });
    expect(worker.tasks()).toEqual([]);
    const http = context.stats().kinds.find((k) => k.kind === 'http');
    expect(http?.outcomes).toEqual({ ok: 4, error: 0, cut_off: 0 });
    // Each timed from its own start: three of ~20 ms and one of ≥ 50 ms, none from the epoch.
    expect(http?.sum).toBeGreaterThanOrEqual(0.05 + 3 * 0.015);
    expect(http?.sum).toBeLessThan(30);
    const result = await worker.drain();
    expect(result).toMatchObject({ exitCode: 0, abandoned: [] });
  });

  it('answers Connection: close from the start of the drain, or keeps alive if asked', async () => {
    for (const keepAliveWhileDraining of [false, true]) {
      const { worker } = testWorker({ drainDelayMs: 500 });
      const server = createServer((_req, res) => res.end('ok'));
      attachServer(worker, server, { keepAliveWhileDraining });
      const port = await listenOn(server);
      await worker.start();
      void worker.drain();
      const during = await httpRequest({ port, headers: { connection: 'keep-alive' } });
      expect(during.headers.connection, `keepAliveWhileDraining: ${keepAliveWhileDraining}`).toBe(
        keepAliveWhileDraining ? 'keep-alive' : 'close',
      );
    }
  });

  it('fires closingSignal when the server starts closing, so a stream can end', async () => {
    const { worker, logger } = testWorker({ drainDelayMs: 200 });
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      closingSignal(req).addEventListener('abort', () => res.end('event: bye\n\n'));
    });
    attachServer(worker, server);
    const port = await listenOn(server);
    await worker.start();
    const stream = httpRequest({ port, path: '/sse' });
    await waitFor(() => worker.inflight === 1, { what: 'the stream to start' });
    const stoppedAt = Date.now();
    const result = await worker.drain();
    const response = await stream;
    expect(response.body).toBe('data: 1\n\nevent: bye\n\n');
    expect(response.receivedAt - stoppedAt).toBeGreaterThanOrEqual(190);
    expect(result).toMatchObject({ exitCode: 0, abandoned: [] });
    const report = logger.entries.find((e) => e.message === 'server closed');
    expect(report?.fields).toMatchObject({ destroyedConnections: 0 });
  });

  it('destroys a stream that ignores closingSignal at the drain deadline and reports it', async () => {
    const { worker, logger } = testWorker({ gracePeriodMs: 1000, shutdownReserveMs: 300 });
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
    });
    attachServer(worker, server);
    const port = await listenOn(server);
    await worker.start();
    const stream = httpRequest({ port, path: '/sse' }).catch((e: NodeJS.ErrnoException) => e.code);
    await waitFor(() => worker.inflight === 1, { what: 'the stream to start' });
    const started = Date.now();
    const result = await worker.drain();
    const tookMs = Date.now() - started;
    expect(await stream).toBe('ECONNRESET');
    expect(result.exitCode).toBe(1);
    expect(result.abandoned.map((t) => [t.name, t.key])).toEqual([['http:GET', '/sse']]);
    // Destroyed at the drain deadline (700 ms), not held open: a generous bound for a busy machine.
    expect(result.drainMs, `drained in ${result.drainMs} ms`).toBeLessThan(1000);
    expect(tookMs, `drain took ${tookMs} ms`).toBeLessThan(700 + 1500);
    const report = logger.entries.find((e) => e.message === 'server closed');
    expect(report?.fields).toMatchObject({ destroyedConnections: 1 });
  });

  it('lets onClosing close upgraded connections, and destroys those left at the deadline', async () => {
    for (const hookClosesThem of [true, false]) {
      const { worker, logger } = testWorker({ gracePeriodMs: 1000, shutdownReserveMs: 300 });
      const sockets = new Set<Socket>();
      const server = createServer((_req, res) => res.end());
      server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
        expect(closingSignal(req).aborted).toBe(false);
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n',
        );
        sockets.add(socket);
      });
      attachServer(worker, server, {
        onClosing: () => {
          if (hookClosesThem) for (const socket of sockets) socket.end();
        },
      });
      const port = await listenOn(server);
      await worker.start();
      const client = await upgrade(port);
      const clientClosed = closed(client);
      const started = Date.now();
      await worker.drain();
      const closedMs = (await clientClosed) - started;
      const report = logger.entries.find((e) => e.message === 'server closed')?.fields;
      if (hookClosesThem) {
        expect(report).toMatchObject({ destroyedConnections: 0 });
        // Closed by the hook, well before the 700 ms drain deadline.
        expect(closedMs, `closed after ${closedMs} ms`).toBeLessThan(600);
      } else {
        expect(report).toMatchObject({ destroyedConnections: 1 });
        expect(closedMs, `closed after ${closedMs} ms`).toBeGreaterThanOrEqual(600);
      }
    }
  });

  it('logs an onClosing that hangs past hookTimeoutMs as HANDOVER_E_HOOK_TIMEOUT, and exits the drain', async () => {
    const { worker, logger } = testWorker({ hookTimeoutMs: 200 });
    const server = createServer((_req, res) => res.end());
    attachServer(worker, server, { onClosing: () => new Promise(() => {}) });
    await listenOn(server);
    await worker.start();
    await worker.drain();
    const failed = await waitFor(
      () => logger.entries.find((e) => e.message === 'server hook failed'),
      { what: 'the hook failure logged', timeoutMs: 5000 },
    );
    expect(failed.fields).toMatchObject({ hook: 'onClosing' });
    expect(isHandoverError(failed.fields?.err, 'HANDOVER_E_HOOK_TIMEOUT')).toBe(true);
  });

  it('serves a request sent on a silent new connection during the grace, and closes one that stays silent', async () => {
    const { worker } = testWorker({ drainDelayMs: 100 });
    const server = createServer((_req, res) => res.end('ok'));
    attachServer(worker, server, { newConnectionGraceMs: 300 });
    const port = await listenOn(server);
    await worker.start();
    const open = () =>
      new Promise<Socket>((resolve) => {
        const socket: Socket = connect(port, '127.0.0.1', () => resolve(socket));
      });
    const [talker, silent] = await Promise.all([open(), open()]);
    await waitFor(
      () => new Promise<boolean>((resolve) => server.getConnections((_e, n) => resolve(n === 2))),
      { what: 'both connections accepted' },
    );
    const silentClosed = closed(silent);
    const started = Date.now();
    const drained = worker.drain();
    await waitFor(() => !server.listening, { what: 'the server to stop listening' });
    const answer = new Promise<string>((resolve) => {
      let text = '';
      talker.on('data', (d) => {
        text += d;
      });
      talker.on('close', () => resolve(text));
    });
    talker.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await answer).toMatch(/^HTTP\/1.1 200 OK[\s\S]*connection: close[\s\S]*ok$/i);
    const silentMs = (await silentClosed) - started;
    expect(silentMs, `silent connection closed after ${silentMs} ms`).toBeGreaterThanOrEqual(390);
    expect((await drained).exitCode).toBe(0);
  });

  it('advertises its URL from the identity and the listening port', async () => {
    const { worker } = testWorker();
    const server = createServer();
    const port = attachServer(worker, server);
    expect(port.url()).toBeUndefined();
    const listening = await listenOn(server);
    expect(port.url()).toBe(`http://10.0.0.5:${listening}`);
    expect(port.name).toBe(`http:${listening}`);

    const v6 = testWorker({ identity: { id: 'w', hostname: 'h', addresses: ['fd00::5'] } }).worker;
    const tls = createHttpsServer({});
    const tlsPort = attachServer(v6, tls);
    const tlsListening = await listenOn(tls as never);
    expect(tlsPort.url()).toBe(`https://[fd00::5]:${tlsListening}`);

    const named = testWorker({ identity: { id: 'w', hostname: 'box', addresses: [] } }).worker;
    const other = createServer();
    expect(attachServer(named, other, { url: 'http://orders.internal:80' }).url()).toBe(
      'http://orders.internal:80',
    );
    const plain = createServer();
    const plainPort = attachServer(
      testWorker({ identity: { id: 'w', hostname: 'box', addresses: [] } }).worker,
      plain,
    );
    expect(plainPort.url()).toBeUndefined();
    const plainListening = await listenOn(plain);
    expect(plainPort.url()).toBe(`http://box:${plainListening}`);
  });

  it('refuses a second attach, a non-server and an attach after start', async () => {
    const { worker } = testWorker();
    const server = createServer();
    attachServer(worker, server);
    const again = () => attachServer(testWorker().worker, server);
    expect(again).toThrow(expect.objectContaining({ code: 'HANDOVER_E_ALREADY_ATTACHED' }));
    expect(() => attachServer(worker, {} as never)).toThrow(
      'Expected `server` to be a node:http or node:https server, got a value of type object',
    );
    await worker.start();
    const late = (() => {
      try {
        attachServer(worker, createServer());
      } catch (error) {
        return error;
      }
    })();
    expect(isHandoverError(late, 'HANDOVER_E_INVALID_STATE')).toBe(true);
  });

  it('throws HANDOVER_E_NOT_ATTACHED from closingSignal for a server that is not attached', async () => {
    let error: unknown;
    const server = createServer((req, res) => {
      try {
        closingSignal(req);
      } catch (e) {
        error = e;
      }
      res.end();
    });
    await httpRequest({ port: await listenOn(server) });
    expect(isHandoverError(error, 'HANDOVER_E_NOT_ATTACHED')).toBe(true);
  });
});
