import { describe, expect, it } from 'vitest';
import { findHost, parseHosts, scanHosts } from './hosts.js';

describe('parseHosts', () => {
  it('reads address, names and 1-based line of every entry, in file order', () => {
    const text = '127.0.0.1 localhost\n\n172.17.0.2\t3f4e5a6b7c8d\n';
    expect(parseHosts(text)).toEqual([
      { address: '127.0.0.1', names: ['localhost'], line: 1 },
      { address: '172.17.0.2', names: ['3f4e5a6b7c8d'], line: 3 },
    ]);
  });

  it('splits fields on any run of spaces and tabs, ignoring leading and trailing blanks', () => {
    expect(parseHosts(' \t10.0.0.8 \t box   box.lan\t ')).toEqual([
      { address: '10.0.0.8', names: ['box', 'box.lan'], line: 1 },
    ]);
  });

  it('treats # as the start of a comment anywhere on a line', () => {
    const text = '# header\n10.0.0.8 box#lan\n10.0.0.9 # nothing left\n#10.0.0.7 old';
    expect(parseHosts(text)).toEqual([{ address: '10.0.0.8', names: ['box'], line: 2 }]);
  });

  it('parses CRLF line endings like LF ones', () => {
    expect(parseHosts('10.0.0.1 a b\r\n::1 localhost\r\n')).toEqual([
      { address: '10.0.0.1', names: ['a', 'b'], line: 1 },
      { address: '::1', names: ['localhost'], line: 2 },
    ]);
  });

  it('keeps IPv6 addresses with a zone id and reports names as written', () => {
    expect(parseHosts('fe80::1%eth0 Box.LAN')).toEqual([
      { address: 'fe80::1%eth0', names: ['Box.LAN'], line: 1 },
    ]);
  });

  it('rejects a non-string with HANDOVER_E_INVALID_OPTION', () => {
    expect(() => parseHosts(undefined as unknown as string)).toThrow(
      'Expected `text` to be a string, got undefined',
    );
  });
});

describe('scanHosts', () => {
  it('lists lines that do not start with an address, or have no name, as ignored', () => {
    const text = 'garbage here\n10.0.0.9\n999.1.1.1 box\n\n  # comment\n10.0.0.1 ok';
    expect(scanHosts(text)).toEqual({
      entries: [{ address: '10.0.0.1', names: ['ok'], line: 6 }],
      ignoredLines: [1, 2, 3],
    });
  });
});

describe('findHost', () => {
  const entries = parseHosts(
    [
      '127.0.0.1 localhost web',
      '127.0.1.1 web.example.org web',
      '10.0.0.5 web web.lan',
      '10.0.0.5 WEB Web.Lan extra',
      'fd00::5 Web',
      'ff02::1 web',
      '10.0.0.6 other',
    ].join('\n'),
  );

  it('merges the non-loopback addresses of every line naming the host, in file order', () => {
    expect(findHost(entries, 'web').addresses).toEqual(['10.0.0.5', 'fd00::5']);
  });

  it('collects the other names of those lines once each, as first written', () => {
    expect(findHost(entries, 'web').aliases).toEqual(['web.lan', 'extra']);
  });

  it('compares host names case-insensitively', () => {
    expect(findHost(entries, 'WeB')).toEqual({
      addresses: ['10.0.0.5', 'fd00::5'],
      aliases: ['web.lan', 'extra'],
    });
  });

  it('finds nothing for a host named only on loopback lines or not at all', () => {
    expect(findHost(entries, 'web.example.org')).toEqual({ addresses: [], aliases: [] });
    expect(findHost(entries, 'absent')).toEqual({ addresses: [], aliases: [] });
    expect(findHost(entries, '')).toEqual({ addresses: [], aliases: [] });
  });
});
