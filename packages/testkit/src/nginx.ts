import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { whenListening } from './lb-process.js';
import { getFreePort } from './ports.js';

/** Finds an `nginx` binary: `NGINX_BIN`, then `PATH`, then Debian's `/usr/sbin`. */
export function findNginx(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findBinary('nginx', 'NGINX_BIN', ['/usr/sbin/nginx'], env);
}

/** Options of {@link startNginx}. */
export interface NginxOptions {
  /** Ports of the upstream servers on 127.0.0.1. */
  readonly upstreams: readonly number[];
  /** Idle keep-alive connections nginx keeps to the upstreams (0: a connection per request). @default 16 */
  readonly keepalive?: number;
}

/** A private nginx load balancer on a free port. */
export interface Nginx {
  readonly port: number;
  /** Temporary directory with the config and logs; removed by `stop()`. */
  readonly dir: string;
  /** Everything nginx wrote to its error log. */
  log(): string;
  stop(): Promise<void>;
}

function config(dir: string, port: number, options: NginxOptions): string {
  const keepalive = options.keepalive ?? 16;
  // max_fails=0: a refused connection never takes an upstream out of the rotation, so a
  // restarted instance gets traffic again at once and nginx never runs out of upstreams.
  const servers = options.upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=0;`);
  return `worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
${process.getuid?.() === 0 ? 'user root root;' : ''}
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'tmp', 'body')};
  proxy_temp_path ${join(dir, 'tmp', 'proxy')};
  fastcgi_temp_path ${join(dir, 'tmp', 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'tmp', 'uwsgi')};
  scgi_temp_path ${join(dir, 'tmp', 'scgi')};
  upstream app {
${servers.join('\n')}
${keepalive > 0 ? `    keepalive ${keepalive};` : ''}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
      proxy_read_timeout 30s;
    }
  }
}
`;
}

/** Starts nginx in front of `upstreams` with `proxy_next_upstream error`. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const bin = findNginx();
  if (!bin) {
    throw new Error('nginx not found: install it (apt-get install nginx) or set NGINX_BIN');
  }
  const dir = mkdtempSync(join(tmpdir(), 'handover-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  const port = await getFreePort();
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, config(dir, port, options));
  const errorLog = join(dir, 'error.log');
  let output = '';
  const child: ChildProcess = spawn(bin, ['-p', dir, '-c', file, '-e', errorLog], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const log = (): string => output + (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '');
  return whenListening(child, { name: 'nginx', port, dir, log, stopSignal: 'SIGQUIT' });
}
