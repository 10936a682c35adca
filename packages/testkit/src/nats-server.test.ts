import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type NatsServer, startNatsServer } from './nats-server.js';

/** Reads the INFO line a nats-server sends on connect. */
function info(port: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const line = data.split('\r\n')[0] ?? '';
      if (data.includes('\r\n') && line.startsWith('INFO ')) {
        socket.destroy();
        resolve(JSON.parse(line.slice(5)));
      }
    });
    socket.on('error', reject);
  });
}

const servers: NatsServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
});

describe('startNatsServer', () => {
  it('starts a JetStream server on a free port of its own', async () => {
    const server = await startNatsServer();
    servers.push(server);
    expect(server.port).not.toBe(4222);
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(await info(server.port)).toMatchObject({ jetstream: true, port: server.port });
  });

  it('restarts on the same port after a crash', async () => {
    const server = await startNatsServer();
    servers.push(server);
    await server.kill();
    expect(server.running).toBe(false);
    await expect(info(server.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await server.restart();
    expect(server.running).toBe(true);
    expect(await info(server.port)).toMatchObject({ port: server.port });
  });

  it('removes its directory on dispose', async () => {
    const server = await startNatsServer();
    await server.dispose();
    expect(existsSync(server.dir)).toBe(false);
  });
});
