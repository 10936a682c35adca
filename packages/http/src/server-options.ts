import {
  expectOption,
  isRecord,
  optionalBoolean,
  optionalFunction,
  optionalInteger,
} from './validate.js';

/** Options of {@link attachServer}. */
export interface AttachServerOptions {
  /** The server's name in logs. @default `http:<listening port>` */
  readonly name?: string;
  /**
   * The URL other services reach this server at, advertised as the registry entry's `http`.
   * @default `http(s)://<identity.addresses[0] or identity.hostname>:<listening port>`
   */
  readonly url?: string;
  /**
   * Keep connections alive during the drain delay. By default every response from the start
   * of the drain carries `Connection: close`, so that no client holds a reusable socket when
   * the server stops accepting (the keep-alive close race). Responses always carry it once
   * the server is closing.
   * @default false
   */
  readonly keepAliveWhileDraining?: boolean;
  /**
   * How long a connection that was accepted but has sent no request yet may take to send one
   * once the server is closing. Its request is served (with `Connection: close`); a connection
   * that sends nothing is closed after this time rather than held until the deadline.
   * Minimum 0.
   * @default 1000
   */
  readonly newConnectionGraceMs?: number;
  /**
   * Called once when the server starts closing (after the drain delay): close WebSocket
   * servers and end streams here. What is still open at the drain deadline is destroyed.
   * Errors are logged. See also {@link closingSignal} for one request.
   * @default undefined
   */
  readonly onClosing?: () => void | Promise<void>;
  /**
   * Called once in the worker's teardown: after the work in flight of every port (HTTP
   * requests, NATS tasks, JetStream jobs) has settled and the worker has deregistered, with
   * the shutdown hooks, and bounded like them by `hookTimeoutMs`. Framework adapters run the
   * framework's own close here (the Fastify plugin calls `fastify.close()`, which runs its
   * `onClose` hooks), so what those hooks tear down is never pulled from under a task.
   * @default undefined
   */
  readonly onTeardown?: () => Promise<void>;
}

/** Validated {@link AttachServerOptions}. */
export interface ResolvedServerOptions {
  readonly name: string | undefined;
  readonly url: string | undefined;
  readonly keepAliveWhileDraining: boolean;
  readonly newConnectionGraceMs: number;
  readonly onClosing: (() => void | Promise<void>) | undefined;
  readonly onTeardown: (() => Promise<void>) | undefined;
}

/** Validates {@link AttachServerOptions}; throws `HANDOVER_E_INVALID_OPTION` on the first problem. */
export function resolveServerOptions(options: unknown): ResolvedServerOptions {
  if (options === undefined) options = {};
  expectOption(isRecord(options), 'options', 'an object', options);
  const { name, url } = options;
  expectOption(
    name === undefined || (typeof name === 'string' && name.length > 0 && name.length <= 100),
    'name',
    'a string of 1-100 characters',
    name,
  );
  expectOption(
    url === undefined || (typeof url === 'string' && /^https?:\/\/[^\s/?#]+(\/\S*)?$/.test(url)),
    'url',
    'an http:// or https:// URL',
    url,
  );
  return {
    name,
    url,
    keepAliveWhileDraining:
      optionalBoolean('keepAliveWhileDraining', options.keepAliveWhileDraining) ?? false,
    newConnectionGraceMs:
      optionalInteger('newConnectionGraceMs', options.newConnectionGraceMs, 0) ?? 1000,
    onClosing: optionalFunction('onClosing', options.onClosing),
    onTeardown: optionalFunction('onTeardown', options.onTeardown),
  };
}
