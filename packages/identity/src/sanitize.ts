import { IdentityError } from './errors.js';
import { expectOption } from './validate.js';

/** The longest worker id the protocol allows. */
export const maxIdLength = 128;

const allowed = /^[A-Za-z0-9_-]$/;

/**
 * Replaces every code point outside `[A-Za-z0-9_-]` with `_` and keeps at most `maxLength`
 * characters. The output is ASCII, so its length is its code-point count.
 */
export function sanitize(raw: string, maxLength: number = maxIdLength): string {
  let out = '';
  // for...of walks code points, so an emoji (a surrogate pair) becomes a single `_`.
  for (const char of raw) {
    if (out.length >= maxLength) break;
    out += allowed.test(char) ? char : '_';
  }
  return out;
}

/**
 * Turns any string into a protocol-safe worker id: 1–128 characters of `[A-Za-z0-9_-]`. Every
 * other character (by Unicode code point) becomes `_`, leading and trailing `_` are kept, and
 * the result is cut to 128 characters. A subject built from the id has exactly one token for
 * it, and never a `*` or `>` wildcard.
 *
 * @example sanitizeId('web-0.nginx') // 'web-0_nginx'
 * @throws {@link IdentityError} `HANDOVER_E_IDENTITY_EMPTY` when `raw` is empty;
 * `HANDOVER_E_INVALID_OPTION` when it is not a string.
 */
export function sanitizeId(raw: string): string {
  expectOption(typeof raw === 'string', 'raw', 'a string', raw);
  const id = sanitize(raw);
  if (id === '') {
    throw new IdentityError(
      'HANDOVER_E_IDENTITY_EMPTY',
      'Expected a non-empty string to derive a worker id from, got "" (string)',
    );
  }
  return id;
}

/**
 * The id of a host: its sanitised name, plus `-<pid>` when the name alone is not unique (a plain
 * host runs several processes under one hostname; a container runs one). The name is cut so
 * that the suffix still fits in 128 characters.
 */
export function hostId(hostname: string, pid: number | undefined): string {
  if (pid === undefined) return sanitize(hostname);
  const suffix = `-${pid}`;
  return `${sanitize(hostname, maxIdLength - suffix.length)}${suffix}`;
}
