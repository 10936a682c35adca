import { describe, expect, it } from 'vitest';
import { credentialsFromUrls, redactServer, serverAtLeast, serverWarnings } from './connection.js';

describe('credentialsFromUrls', () => {
  it('moves user and password out of the URL', () => {
    expect(credentialsFromUrls({ servers: 'nats://alice:s%40cret@10.0.0.1:4222' })).toEqual({
      servers: 'nats://10.0.0.1:4222',
      user: 'alice',
      pass: 's@cret',
    });
  });

  it("keeps a password with an unencoded '@' whole", () => {
    expect(credentialsFromUrls({ servers: 'nats://bob:p@ss@10.0.0.1:4222' })).toEqual({
      servers: 'nats://10.0.0.1:4222',
      user: 'bob',
      pass: 'p@ss',
    });
    expect(redactServer('nats://bob:p@ss@10.0.0.1:4222')).toBe('nats://***@10.0.0.1:4222');
  });

  it('reads a lone userinfo as a token, in every URL of a list', () => {
    expect(credentialsFromUrls({ servers: ['nats://tok@a:4222', 'tok@b:4222'] })).toEqual({
      servers: ['nats://a:4222', 'b:4222'],
      token: 'tok',
    });
  });

  it('leaves URLs without credentials alone', () => {
    const options = { servers: ['nats://a:4222'], token: 't' };
    expect(credentialsFromUrls(options)).toBe(options);
  });

  it('refuses URLs with different credentials, without echoing them', () => {
    expect(() => credentialsFromUrls({ servers: ['nats://a:1@h', 'nats://b:2@h'] })).toThrow(
      expect.objectContaining({
        code: 'HANDOVER_E_INVALID_OPTION',
        message: expect.not.stringContaining('a:1'),
      }),
    );
  });

  it('refuses URL credentials next to explicit ones', () => {
    expect(() => credentialsFromUrls({ servers: 'nats://a:1@h', user: 'x', pass: 'y' })).toThrow(
      /URLs without credentials/,
    );
  });
});

describe('redactServer', () => {
  it.each([
    ['nats://alice:secret@10.0.0.1:4222', 'nats://***@10.0.0.1:4222'],
    ['token@host:4222', '***@host:4222'],
    ['tls://host:4443', 'tls://host:4443'],
  ])('redacts %s', (input, output) => {
    expect(redactServer(input)).toBe(output);
  });
});

describe('serverAtLeast', () => {
  const server = (version: string) => ({ info: { version } as never });
  it('compares major, minor and patch in that order', () => {
    expect(serverAtLeast(server('2.9.10'), 2, 9, 15)).toBe(false);
    expect(serverAtLeast(server('2.9.15'), 2, 9, 15)).toBe(true);
    expect(serverAtLeast(server('2.10.0'), 2, 9, 15)).toBe(true);
    expect(serverAtLeast(server('2.9.10'), 2, 11)).toBe(false);
    expect(serverAtLeast(server('2.11.0-RC.1'), 2, 11)).toBe(true);
    expect(serverAtLeast(server('3.0.0'), 2, 11)).toBe(true);
  });
});

describe('serverWarnings', () => {
  const server = (version: string) => ({ info: { version } as never });
  it('warns of the STREAM.MSG.GET crash before 2.9.15 when JetStream is used', () => {
    expect(serverWarnings(server('2.9.10'), true)).toEqual([
      expect.stringContaining('upgrade to 2.9.15 or later'),
    ]);
    expect(serverWarnings(server('2.9.15'), true)).toEqual([]);
    expect(serverWarnings(server('2.10.22'), true)).toEqual([]);
    expect(serverWarnings(server('2.9.10'), false)).toEqual([]);
  });
});
