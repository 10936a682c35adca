import { randomBytes } from 'node:crypto';

const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A fresh instance id in the NUID format (22 characters of `[0-9A-Za-z]`), random per process
 * start. Safe in subjects and KV keys, and usable as the micro protocol's service `id`.
 */
export function newInstanceId(): string {
  // 62 * 4 = 248: rejecting bytes >= 248 keeps every character equally likely.
  let out = '';
  while (out.length < 22) {
    for (const byte of randomBytes(32)) {
      if (byte < 248 && out.length < 22) out += alphabet[byte % 62];
    }
  }
  return out;
}
