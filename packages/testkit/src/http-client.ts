import { type Agent, type IncomingHttpHeaders, request } from 'node:http';

/** Options of {@link httpRequest}. */
export interface HttpRequestOptions {
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default '/' */
  readonly path?: string;
  /** @default 'GET' */
  readonly method?: string;
  /** A keep-alive agent to reuse sockets; `false` (the default) opens a new connection. */
  readonly agent?: Agent | false;
  readonly headers?: Readonly<Record<string, string>>;
  /** Fail with `ETIMEDOUT` after this long. @default 10000 */
  readonly timeoutMs?: number;
}

/** A response, read to the end. */
export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Whether the request went out on a socket that had served an earlier request. */
  readonly reusedSocket: boolean;
  /** Epoch ms when the request was sent and when the response ended. */
  readonly sentAt: number;
  readonly receivedAt: number;
}

/** A request's outcome: a response, or the error code (`ECONNREFUSED`, `ECONNRESET`, ...). */
export type HttpOutcome =
  | ({ readonly ok: true } & HttpResult)
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly sentAt: number;
    };

/** Sends one HTTP request and reads the whole response; rejects with Node's error. */
export function httpRequest(options: HttpRequestOptions): Promise<HttpResult> {
  const sentAt = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.host ?? '127.0.0.1',
        port: options.port,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        agent: options.agent ?? false,
        headers: options.headers,
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            reusedSocket: req.reusedSocket,
            sentAt,
            receivedAt: Date.now(),
          }),
        );
      },
    );
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end();
  });
}

/** Like {@link httpRequest}, but resolves with the error code instead of rejecting. */
export async function tryHttpRequest(options: HttpRequestOptions): Promise<HttpOutcome> {
  const sentAt = Date.now();
  try {
    return { ok: true, ...(await httpRequest(options)) };
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    return { ok: false, code: err.code ?? 'UNKNOWN', message: err.message, sentAt };
  }
}
