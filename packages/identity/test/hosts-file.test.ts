import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, readers, recording, tempDir } from './helpers.js';

const mib = 1024 * 1024;
let dir: ReturnType<typeof tempDir>;
const path = (name: string): string => join(dir.path, name);

beforeAll(() => {
  dir = tempDir();
  const line = '10.0.0.5 big\n';
  // Exactly at the limit: one entry, then comment lines padding the file to 1 MiB.
  const padding = `#${'x'.repeat(mib - line.length - 2)}\n`;
  writeFileSync(path('limit.hosts'), line + padding);
  writeFileSync(path('over.hosts'), `${line}${padding}#`);
  writeFileSync(path('nul.hosts'), Buffer.from('10.0.0.5 bin\0ary\n'));
  // Latin-1 `é` (0xe9) in a comment, and a line whose names are not UTF-8.
  writeFileSync(
    path('latin1.hosts'),
    Buffer.concat([
      Buffer.from('# Caf'),
      Buffer.from([0xe9]),
      Buffer.from('\n10.0.0.5 w # r'),
      Buffer.from([0xe9]),
      Buffer.from('sum\n10.0.0.6 bad'),
      Buffer.from([0xf6]),
      Buffer.from('\n'),
    ]),
  );
  writeFileSync(path('bom.hosts'), '\ufeff10.0.0.5 bommed\n');
  writeFileSync(path('garbage.hosts'), `${'garbage\n'.repeat(12)}10.0.0.5 g\n`);
  writeFileSync(path('locked.hosts'), '10.0.0.5 locked\n');
  chmodSync(path('locked.hosts'), 0o000);
  mkdirSync(path('directory.hosts'));
});

afterAll(() => dir.remove());

const asRoot = process.getuid?.() === 0;

describe.each(readers)('%s', (_name, read) => {
  it('reads a file of exactly 1 MiB', async () => {
    const { options } = recording({ hostsPath: path('limit.hosts'), hostname: 'big' });
    expect(await read(options)).toMatchObject({ id: 'big', addresses: ['10.0.0.5'] });
  });

  it('throws HANDOVER_E_HOSTS_TOO_LARGE for a file one byte over 1 MiB', async () => {
    const error = await failure(() => read(recording({ hostsPath: path('over.hosts') }).options));
    expect(error.code).toBe('HANDOVER_E_HOSTS_TOO_LARGE');
    expect(error.message).toBe(
      `Expected hosts file ${path('over.hosts')} to be at most 1048576 bytes (1 MiB), got 1048577 bytes`,
    );
  });

  it.skipIf(!existsSync('/dev/zero'))(
    'stops reading an endless special file past 1 MiB and throws HANDOVER_E_HOSTS_TOO_LARGE',
    async () => {
      const error = await failure(() => read(recording({ hostsPath: '/dev/zero' }).options));
      expect(error.code).toBe('HANDOVER_E_HOSTS_TOO_LARGE');
      expect(error.message).toContain('got more than 1048576 bytes');
    },
  );

  it('throws HANDOVER_E_HOSTS_BINARY for a file with a NUL byte, naming its offset', async () => {
    const error = await failure(() => read(recording({ hostsPath: path('nul.hosts') }).options));
    expect(error.code).toBe('HANDOVER_E_HOSTS_BINARY');
    expect(error.message).toBe(
      `Expected hosts file ${path('nul.hosts')} to be UTF-8 text, got a NUL byte at offset 12`,
    );
  });

  it('reads a file with bytes that are not UTF-8 as glibc does: comments pass, such lines are left out with a warning', async () => {
    const { options, warnings } = recording({ hostsPath: path('latin1.hosts'), hostname: 'w' });
    expect(await read(options)).toMatchObject({ id: 'w', addresses: ['10.0.0.5'] });
    expect(warnings).toEqual([
      {
        code: 'HANDOVER_W_HOSTS_LINE',
        message: `Ignored 1 line(s) of hosts file ${path('latin1.hosts')} that are not "<IP address> <name>..." in UTF-8: line 3`,
      },
    ]);
  });

  it('lists the first 10 ignored lines and counts the rest', async () => {
    const { options, warnings } = recording({ hostsPath: path('garbage.hosts'), hostname: 'g' });
    expect(await read(options)).toMatchObject({ id: 'g', addresses: ['10.0.0.5'] });
    expect(warnings).toEqual([
      {
        code: 'HANDOVER_W_HOSTS_LINE',
        message: `Ignored 12 line(s) of hosts file ${path('garbage.hosts')} that are not "<IP address> <name>..." in UTF-8: line 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more`,
      },
    ]);
  });

  it('ignores a UTF-8 byte order mark', async () => {
    const { options } = recording({ hostsPath: path('bom.hosts'), hostname: 'bommed' });
    expect(await read(options)).toMatchObject({ id: 'bommed', source: 'hosts' });
  });

  it.each([
    ['missing.hosts', 'ENOENT'],
    ['directory.hosts', 'EISDIR'],
    ['bom.hosts/child', 'ENOTDIR'],
  ])('falls back to the host name with a warning when %s fails with %s', async (file, code) => {
    const { options, warnings } = recording({ hostsPath: path(file), hostname: 'laptop' });
    expect(await read(options)).toEqual({
      id: 'laptop-4121',
      hostname: 'laptop',
      addresses: [],
      aliases: [],
      source: 'hostname',
      containerized: false,
    });
    expect(warnings).toEqual([
      {
        code: 'HANDOVER_W_HOSTS_UNREADABLE',
        message: `Cannot read hosts file ${path(file)} (${code}); treating this as a plain host, not a container`,
      },
    ]);
  });

  it.skipIf(asRoot)(
    'falls back with a warning when the file is not readable (EACCES)',
    async () => {
      const { options, warnings } = recording({ hostsPath: path('locked.hosts'), hostname: 'h' });
      expect(await read(options)).toMatchObject({ id: 'h-4121', source: 'hostname' });
      expect(warnings.map((warning) => warning.message)).toEqual([
        `Cannot read hosts file ${path('locked.hosts')} (EACCES); treating this as a plain host, not a container`,
      ]);
    },
  );
});
