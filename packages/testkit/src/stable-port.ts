import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The start of the kernel's ephemeral port range (where outgoing connections get their port). */
function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/);
    const value = Number(low);
    return Number.isInteger(value) && value > 11_000 ? value : 32_768;
  } catch {
    return 32_768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port free on 127.0.0.1 that is below the ephemeral range, so no outgoing connection
 * takes it as its source port: a service can stop and listen on it again (or a new one start
 * on it later) without `EADDRINUSE`. `getFreePort()` ports come from the ephemeral range.
 */
export async function getStablePort(): Promise<number> {
  const high = ephemeralStart();
  const low = 10_000;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port found between ${low} and ${high}`);
}
