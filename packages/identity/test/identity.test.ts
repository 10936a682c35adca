import { describe, expect, it } from 'vitest';
import type { Identity } from '../src/index.js';
import { fixture, readers, recording } from './helpers.js';

interface Case {
  readonly file: string;
  readonly hostname: string;
  readonly expected: Omit<Identity, 'hostname'>;
}

const container = (id: string, addresses: string[], aliases: string[] = []) => ({
  id,
  addresses,
  aliases,
  source: 'hosts' as const,
  containerized: true,
});

const cases: readonly Case[] = [
  { file: 'docker', hostname: '3f4e5a6b7c8d', expected: container('3f4e5a6b7c8d', ['172.17.0.2']) },
  {
    file: 'swarm',
    hostname: 'a1b2c3d4e5f6',
    expected: container('a1b2c3d4e5f6', ['10.0.1.7', '10.0.2.4']),
  },
  {
    file: 'kubernetes',
    hostname: 'orders-7d9f8b6c5-x2k4q',
    expected: container('orders-7d9f8b6c5-x2k4q', ['10.244.0.12']),
  },
  {
    file: 'kubernetes-dualstack',
    hostname: 'orders-7d9f8b6c5-q8w2z',
    expected: container('orders-7d9f8b6c5-q8w2z', ['10.244.1.5', 'fd00:10:244:1::5']),
  },
  {
    file: 'kubernetes-statefulset',
    hostname: 'web-0',
    expected: container('web-0', ['10.244.1.7'], ['web-0.nginx.default.svc.cluster.local']),
  },
  {
    file: 'podman',
    hostname: '9c1e2f3a4b5d',
    expected: container('9c1e2f3a4b5d', ['10.88.0.5'], ['orders-worker']),
  },
  {
    file: 'crlf',
    hostname: 'build-agent',
    expected: container('build-agent', ['192.168.5.20'], ['build-agent.ci.internal']),
  },
  {
    file: 'debian',
    hostname: 'laptop',
    expected: {
      id: 'laptop-4121',
      addresses: [],
      aliases: [],
      source: 'hostname',
      containerized: false,
    },
  },
];

describe.each(readers)('%s', (_name, read) => {
  it.each(cases)('reads the identity a $file hosts file gives $hostname', async (c) => {
    const { options, warnings } = recording({ hostsPath: fixture(c.file), hostname: c.hostname });
    expect(await read(options)).toEqual({ ...c.expected, hostname: c.hostname });
    expect(warnings).toEqual([]);
  });

  it('finds a podman container by its container name too', async () => {
    const { options } = recording({ hostsPath: fixture('podman'), hostname: 'orders-worker' });
    expect(await read(options)).toMatchObject({
      id: 'orders-worker',
      addresses: ['10.88.0.5'],
      aliases: ['9c1e2f3a4b5d'],
    });
  });

  it('reads a malformed file and warns once about the lines it ignored', async () => {
    const { options, warnings } = recording({ hostsPath: fixture('malformed'), hostname: 'box' });
    expect(await read(options)).toEqual({
      id: 'box',
      hostname: 'box',
      addresses: ['10.0.0.8', 'fe80::1%eth0'],
      aliases: ['box.lan', 'mybox'],
      source: 'hosts',
      containerized: true,
    });
    expect(warnings).toEqual([
      {
        code: 'HANDOVER_W_HOSTS_LINE',
        message: `Ignored 3 line(s) of hosts file ${fixture('malformed')} that are not "<IP address> <name>..." in UTF-8: line 3, 4, 7`,
      },
    ]);
  });

  it('matches the host name case-insensitively and reports it as given', async () => {
    const { options } = recording({ hostsPath: fixture('malformed'), hostname: 'BOX' });
    expect(await read(options)).toMatchObject({
      id: 'BOX',
      hostname: 'BOX',
      addresses: ['10.0.0.8', 'fe80::1%eth0'],
      aliases: ['box.lan', 'mybox'],
    });
  });

  it('appends -<pid> to a host not named in the file', async () => {
    const { options } = recording({ hostsPath: fixture('docker'), hostname: 'elsewhere', pid: 9 });
    expect(await read(options)).toEqual({
      id: 'elsewhere-9',
      hostname: 'elsewhere',
      addresses: [],
      aliases: [],
      source: 'hostname',
      containerized: false,
    });
  });

  it('does not take the HostAliases entries of a pod for the pod', async () => {
    const { options } = recording({ hostsPath: fixture('kubernetes'), hostname: 'foo.local' });
    expect(await read(options)).toMatchObject({ id: 'foo_local', aliases: ['bar.local'] });
  });

  it('returns a frozen identity', async () => {
    const identity = await read(recording({ hostsPath: fixture('swarm'), hostname: 'x' }).options);
    expect(Object.isFrozen(identity)).toBe(true);
    expect(Object.isFrozen(identity.addresses)).toBe(true);
  });
});
