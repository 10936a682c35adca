import { decodeJson, encodeJson } from './wire.js';

/** How task payloads and results are turned into bytes and back. */
export interface Codec<In, Out> {
  /** Bytes → payload. Throwing answers the request `400`, or `term`s a JetStream message. */
  decode(data: Uint8Array): In;
  /** Result → bytes. */
  encode(value: Out): Uint8Array;
}

/**
 * UTF-8 JSON (the protocol's default): invalid UTF-8 or JSON does not decode. An empty body
 * is "nothing" both ways: a handler that returns `undefined` replies with no bytes, and no bytes
 * decode to `undefined`.
 */
export const jsonCodec: Codec<unknown, unknown> = {
  decode: (data) => (data.length === 0 ? undefined : decodeJson(data)),
  encode: (value) => (value === undefined ? new Uint8Array(0) : encodeJson(value)),
};

/** Raw bytes in and out; a string result is sent as UTF-8. */
export const rawCodec: Codec<Uint8Array, Uint8Array | string> = {
  decode: (data) => data,
  encode: (value) => (typeof value === 'string' ? new TextEncoder().encode(value) : value),
};
