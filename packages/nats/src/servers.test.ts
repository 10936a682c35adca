import { describe, expect, it } from 'vitest';
import { resolveServers } from './connection.js';
import { parseServers } from './servers.js';

describe('parseServers', () => {
  it('takes one URL, a comma-separated list (trimmed) or an array', () => {
    expect(parseServers('nats://a:4222', 'option')).toEqual(['nats://a:4222']);
    expect(parseServers(' nats://a:4222 , nats://b:4222,nats://c:4222 ', 'env')).toEqual([
      'nats://a:4222',
      'nats://b:4222',
      'nats://c:4222',
    ]);
    expect(parseServers(['nats://a:4222', 'b:4222'], 'option')).toEqual([
      'nats://a:4222',
      'b:4222',
    ]);
  });

  it('refuses an empty entry, naming the source and never echoing the URLs', () => {
    expect(() => parseServers('nats://u:secret@a:4222,', 'env')).toThrow(
      expect.objectContaining({
        code: 'HANDOVER_E_INVALID_ENV',
        message:
          'Expected environment variable NATS_URL to be server URLs, comma-separated or as an array, none of them empty, got a list with an empty entry',
      }),
    );
    expect(() => parseServers(['nats://a:4222', ' '], 'option')).toThrow(
      expect.objectContaining({ code: 'HANDOVER_E_INVALID_OPTION' }),
    );
    expect(() => parseServers(42, 'option')).toThrow(
      expect.objectContaining({ code: 'HANDOVER_E_INVALID_OPTION' }),
    );
    const error = (() => {
      try {
        parseServers('nats://u:secret@a:4222,,', 'option');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).not.toContain('secret');
  });
});

describe('resolveServers', () => {
  const env = { NATS_URL: 'nats://env-a:4222,nats://env-b:4222' };

  it('uses the option, then connection.servers, then NATS_URL, then the nats.js default', () => {
    expect(resolveServers({ servers: 'nats://opt:4222' }, env)).toEqual(['nats://opt:4222']);
    expect(resolveServers({ connection: { servers: 'nats://conn:4222' } }, env)).toEqual([
      'nats://conn:4222',
    ]);
    expect(resolveServers({}, env)).toEqual(['nats://env-a:4222', 'nats://env-b:4222']);
    expect(resolveServers({}, {})).toBeUndefined();
    expect(resolveServers({ servers: undefined }, { NATS_URL: '  ' })).toBeUndefined();
  });
});
