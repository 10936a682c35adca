import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A complete HTTP answer, independent of any framework: the Node handler writes it to a
 * `ServerResponse`, the Fastify plugin sends it through `reply`.
 */
export interface HttpAnswer {
  readonly status: number;
  /** Lower-case header names; always `content-type`, `content-length` and `cache-control`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body text (JSON for the probes); not sent for `HEAD`. */
  readonly body: string;
}

/** A JSON answer that no cache keeps (a probe result is only true now). */
export function jsonAnswer(
  status: number,
  body: unknown,
  extraHeaders: Readonly<Record<string, string>> = {},
): HttpAnswer {
  return textAnswer(status, JSON.stringify(body), 'application/json; charset=utf-8', extraHeaders);
}

/** A text answer (metrics, JSON) that no cache keeps. */
export function textAnswer(
  status: number,
  body: string,
  contentType: string,
  extraHeaders: Readonly<Record<string, string>> = {},
): HttpAnswer {
  return {
    status,
    headers: {
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      ...extraHeaders,
    },
    body,
  };
}

/** Writes `answer` to `res`; `HEAD` gets the headers (with the GET length) and no body. */
export function writeAnswer(req: IncomingMessage, res: ServerResponse, answer: HttpAnswer): void {
  if (res.headersSent || res.writableEnded) return;
  res.writeHead(answer.status, answer.headers);
  res.end(req.method === 'HEAD' ? undefined : answer.body);
}

/** The path of a request URL, without query string or fragment. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  let end = url.length;
  const query = url.indexOf('?');
  if (query !== -1) end = query;
  const hash = url.indexOf('#');
  if (hash !== -1 && hash < end) end = hash;
  return end === url.length ? url : url.slice(0, end);
}
