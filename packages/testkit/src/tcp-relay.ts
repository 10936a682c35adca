import { createServer, type Socket, connect as tcpConnect } from 'node:net';

/** A TCP relay on loopback whose connections a test can cut, to force a client to reconnect. */
export interface TcpRelay {
  /** Where clients connect: `127.0.0.1:<port>`. */
  readonly port: number;
  /** `nats://127.0.0.1:<port>`, for a NATS client. */
  readonly url: string;
  /** Cuts every connection; new ones are relayed as before (a short outage). */
  cut(): void;
  /** Cuts every connection and closes new ones at once, until {@link unblock}: an outage. */
  block(): void;
  unblock(): void;
  close(): Promise<void>;
}

/** Relays connections to `127.0.0.1:<targetPort>`. */
export async function startTcpRelay(targetPort: number): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  let blocked = false;
  const server = createServer((client) => {
    client.on('error', () => {});
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    cut,
    block: () => {
      blocked = true;
      cut();
    },
    unblock: () => {
      blocked = false;
    },
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
