import { connect, type Socket } from 'node:net';
import { bump, type LoadReport } from './http-load.js';

/** Options of {@link startLbLoad}. */
export interface LbLoadOptions {
  /** The load balancer's port on `host`. */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Keep-alive client connections, each with one request in flight at a time. At most half of
   * nginx's `keepalive 16`: more, and nginx keeps opening upstream connections (see docs/http.md).
   * @default 8
   */
  readonly connections?: number;
  /** Requests per second over all connections (paced; less if the server is slower). @default 3000 */
  readonly rate?: number;
  /** Every `postEvery`th request is a non-idempotent `POST /orders` with a JSON body. @default 2 */
  readonly postEvery?: number;
  /** A response header whose values are counted (which instance answered). @default 'x-instance' */
  readonly countHeader?: string;
  /** A request without an answer after this long counts as failed (`ETIMEDOUT`). @default 10000 */
  readonly timeoutMs?: number;
}

/**
 * What a load run through a load balancer saw: a {@link LoadReport} (its `failed` is
 * `status5xx + resets` plus any other non-2xx answer; its `errors` count connection failures,
 * `EOF` for a close without an answer; its `samples` are the first failures, timed from the
 * start of the load), and more.
 */
export interface LbLoadReport extends LoadReport {
  /** 5xx answers (a 502 from the balancer). */
  readonly status5xx: number;
  /** Requests whose connection failed under them: reset, closed without an answer, timed out. */
  readonly resets: number;
  readonly posts: number;
  /** Epoch ms when the load started (the samples' times count from it). */
  readonly startedAt: number;
  readonly durationMs: number;
  /** Requests per second that got an outcome (answered or failed), over the whole load. */
  readonly rate: number;
  /** Requests that got an outcome in each 100 ms from the start (see {@link rateBetween}). */
  readonly per100Ms: readonly number[];
}

/**
 * Requests per second that got an outcome between `fromMs` and `toMs` after the start of the
 * load (whole 100 ms steps), e.g. the rate in the second before a SIGTERM.
 */
export function rateBetween(report: LbLoadReport, fromMs: number, toMs: number): number {
  const from = Math.max(0, Math.floor(fromMs / 100));
  const to = Math.max(from + 1, Math.floor(toMs / 100));
  let count = 0;
  for (let i = from; i < to; i++) count += report.per100Ms[i] ?? 0;
  return Math.round((count * 10) / (to - from));
}

/** A running load. */
export interface LbLoad {
  report(): LbLoadReport;
  /** Stops sending, waits for the requests in flight, returns the final report. */
  stop(): Promise<LbLoadReport>;
}

const body = '{"item":"book","quantity":1}';
const getRequest = Buffer.from('GET / HTTP/1.1\r\nHost: lb\r\n\r\n');
const postRequest = Buffer.from(
  `POST /orders HTTP/1.1\r\nHost: lb\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
);

interface Parsed {
  readonly status: number;
  readonly close: boolean;
  readonly header: string | undefined;
  /** Bytes of the response, headers and body. */
  readonly length: number;
}

/** Parses one response at the start of `buffer`, or returns undefined when it is incomplete. */
function parseResponse(buffer: string, countHeader: string): Parsed | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buffer.slice(0, end).split('\r\n');
  const status = Number((lines[0] ?? '').split(' ')[1]);
  let contentLength = 0;
  let chunked = false;
  let close = false;
  let header: string | undefined;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') contentLength = Number(value);
    else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
    else if (name === 'connection') close = value.toLowerCase() === 'close';
    else if (name === countHeader) header = value;
  }
  const start = end + 4;
  if (chunked) {
    const last = buffer.indexOf('0\r\n\r\n', start);
    if (last < 0) return undefined;
    return { status, close, header, length: last + 5 };
  }
  if (buffer.length < start + contentLength) return undefined;
  return { status, close, header, length: start + contentLength };
}

/**
 * A paced HTTP/1.1 load through a load balancer: GET and non-idempotent POST on keep-alive
 * connections, one request in flight per connection, every request classified. A 5xx is a
 * failed request, and so is a request whose connection is reset or closed before its answer
 * (the balancer reset the client connection). A connection closed between requests is
 * reopened without counting anything.
 */
export function startLbLoad(options: LbLoadOptions): LbLoad {
  const host = options.host ?? '127.0.0.1';
  const connections = options.connections ?? 8;
  const rate = options.rate ?? 3000;
  const postEvery = options.postEvery ?? 2;
  const countHeader = (options.countHeader ?? 'x-instance').toLowerCase();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = (connections * 1000) / rate;
  const startedAt = Date.now();
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const headerValues: Record<string, number> = {};
  const samples: string[] = [];
  const per100Ms: number[] = [];
  let total = 0;
  let ok = 0;
  let status5xx = 0;
  let resets = 0;
  let posts = 0;
  let sequence = 0;
  let running = true;
  let stoppedAt: number | undefined;
  const count = (): void => {
    total++;
    const step = Math.floor((Date.now() - startedAt) / 100);
    while (per100Ms.length <= step) per100Ms.push(0);
    per100Ms[step] = (per100Ms[step] ?? 0) + 1;
  };
  const sample = (text: string): void => {
    if (samples.length < 20) samples.push(`+${Date.now() - startedAt} ms ${text}`);
  };

  const loop = (): Promise<void> =>
    new Promise((done) => {
      let socket: Socket | undefined;
      let buffer = '';
      let pending: { post: boolean; timer: ReturnType<typeof setTimeout> } | undefined;
      let nextAt = Date.now() + Math.random() * intervalMs;
      let failure: string | undefined;
      let scheduled = false;

      const settle = (): void => {
        if (pending) clearTimeout(pending.timer);
        pending = undefined;
      };
      const fail = (code: string): void => {
        if (!pending) return;
        const { post } = pending;
        settle();
        count();
        resets++;
        bump(errors, code);
        sample(`${post ? 'POST' : 'GET'} ${code}`);
      };
      const open = (): void => {
        buffer = '';
        failure = undefined;
        const s = connect({ port: options.port, host, noDelay: true });
        socket = s;
        s.setEncoding('latin1');
        s.on('error', (error: NodeJS.ErrnoException) => {
          failure = error.code ?? 'error';
        });
        s.on('data', (chunk: string) => {
          buffer += chunk;
          const parsed = parseResponse(buffer, countHeader);
          if (!parsed || !pending) return;
          buffer = buffer.slice(parsed.length);
          const { post } = pending;
          settle();
          count();
          bump(statuses, String(parsed.status));
          if (parsed.header !== undefined) bump(headerValues, parsed.header);
          if (parsed.status >= 200 && parsed.status < 300) ok++;
          else {
            if (parsed.status >= 500) status5xx++;
            sample(`${post ? 'POST' : 'GET'} ${parsed.status}`);
          }
          if (parsed.close) s.destroy();
          else schedule();
        });
        s.on('close', () => {
          if (socket !== s) return;
          socket = undefined;
          fail(failure ?? 'EOF');
          schedule();
        });
      };
      const send = (): void => {
        scheduled = false;
        if (!running) {
          socket?.destroy();
          done();
          return;
        }
        if (socket === undefined || socket.destroyed) open();
        const post = postEvery > 0 && ++sequence % postEvery === 0;
        if (post) posts++;
        const timer = setTimeout(() => {
          fail('ETIMEDOUT');
          socket?.destroy();
        }, timeoutMs);
        pending = { post, timer };
        socket?.write(post ? postRequest : getRequest);
      };
      function schedule(): void {
        if (scheduled || pending) return;
        if (!running) {
          socket?.destroy();
          done();
          return;
        }
        scheduled = true;
        nextAt = Math.max(Date.now(), nextAt + intervalMs);
        setTimeout(send, nextAt - Date.now());
      }
      scheduled = true;
      setTimeout(send, nextAt - Date.now());
    });

  const loops = Array.from({ length: connections }, loop);
  const report = (): LbLoadReport => {
    const durationMs = (stoppedAt ?? Date.now()) - startedAt;
    return {
      total,
      ok,
      status5xx,
      resets,
      failed: total - ok,
      posts,
      statuses: { ...statuses },
      errors: { ...errors },
      headerValues: { ...headerValues },
      samples: [...samples],
      startedAt,
      durationMs,
      rate: Math.round((total * 1000) / Math.max(1, durationMs)),
      per100Ms: [...per100Ms],
    };
  };
  return {
    report,
    stop: async () => {
      running = false;
      stoppedAt = Date.now();
      await Promise.all(loops);
      return report();
    },
  };
}
