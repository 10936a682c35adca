import { describe, expect, it } from 'vitest';
import { parseServerList, serversFromEnv, withServerList } from './server-list.js';

describe('parseServerList', () => {
  it('splits a comma-separated string and trims each entry', () => {
    expect(parseServerList(' nats://a:4222 , nats://b:4222,c:4222 ', 'NATS_URL')).toEqual([
      'nats://a:4222',
      'nats://b:4222',
      'c:4222',
    ]);
  });

  it('takes an array, whose entries may be lists themselves', () => {
    expect(parseServerList(['nats://a:4222', 'nats://b:4222, nats://c:4222'], 'servers')).toEqual([
      'nats://a:4222',
      'nats://b:4222',
      'nats://c:4222',
    ]);
  });

  it('keeps a single URL as a list of one', () => {
    expect(parseServerList('tls://nats.example:4443', 'servers')).toEqual([
      'tls://nats.example:4443',
    ]);
  });

  it.each([
    ['a doubled comma', 'nats://a:4222,,nats://b:4222'],
    ['a trailing comma', 'nats://a:4222,'],
    ['a blank string', '   '],
    ['a blank array entry', ['nats://a:4222', ' ']],
  ])('refuses %s, naming the source', (_, value) => {
    expect(() => parseServerList(value, 'NATS_URL')).toThrow(
      expect.objectContaining({
        code: 'HANDOVER_E_INVALID_OPTION',
        message: expect.stringMatching(
          /^Expected `NATS_URL` to be a list of NATS URLs without empty/,
        ),
      }),
    );
  });

  it('refuses what is not a string or an array', () => {
    expect(() => parseServerList(4222, 'connection.servers')).toThrow(
      /Expected `connection.servers` to be a NATS URL, a comma-separated list of them, or an array of them, got 4222 \(number\)/,
    );
    expect(() => parseServerList([], 'connection.servers')).toThrow(/not an empty array/);
    expect(() => parseServerList(['a:4222', 5], 'connection.servers')).toThrow(/\(strings\)/);
  });

  it('never echoes credentials of a bad list', () => {
    const error = (() => {
      try {
        parseServerList('nats://alice:s3cret@a:4222,,nats://alice:s3cret@b:4222', 'NATS_URL');
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toContain('***@a:4222');
    expect(error?.message).not.toContain('s3cret');
  });
});

describe('serversFromEnv', () => {
  it('reads NATS_URL as a list', () => {
    expect(serversFromEnv({ NATS_URL: 'nats://a:4222,nats://b:4222' })).toEqual([
      'nats://a:4222',
      'nats://b:4222',
    ]);
  });

  it('treats an unset or empty NATS_URL as absent', () => {
    expect(serversFromEnv({})).toBeUndefined();
    expect(serversFromEnv({ NATS_URL: '' })).toBeUndefined();
  });

  it('names the variable in its error', () => {
    expect(() => serversFromEnv({ NATS_URL: 'nats://a:4222,' })).toThrow(/`NATS_URL`/);
  });
});

describe('withServerList', () => {
  it('moves one set of credentials out of every URL of the list', () => {
    expect(
      withServerList({ servers: 'nats://u:p@a:4222,nats://u:p@b:4222,nats://c:4222' }),
    ).toEqual({
      servers: ['nats://a:4222', 'nats://b:4222', 'nats://c:4222'],
      user: 'u',
      pass: 'p',
    });
  });

  it('refuses two sets of credentials, naming the source', () => {
    expect(() => withServerList({ servers: 'nats://u:p@a,nats://v:q@b' }, 'NATS_URL')).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(/^Expected `NATS_URL` to be URLs that carry the same/),
      }),
    );
  });

  it('leaves options without servers alone', () => {
    const options = { port: 4222 };
    expect(withServerList(options)).toBe(options);
  });
});
