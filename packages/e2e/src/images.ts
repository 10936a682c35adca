// The images the scenarios run, built from this machine's binaries and the workspace, tagged by
// content hash so that a second run with nothing changed builds nothing.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker } from './docker.js';
import { e2ePath } from './paths.js';
import { importRootfs, type RootfsSpec, rootfsHash } from './rootfs.js';

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const users = {
  // The official node image has user `node` (1000); the shipped Dockerfile runs as it.
  '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n',
  '/etc/group': 'root:x:0:\nnode:x:1000:\n',
  '/etc/nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files dns\n',
};
const dirs = [
  { path: '/tmp', mode: 0o1777 },
  { path: '/root', mode: 0o700 },
  { path: '/home/node', mode: 0o755, uid: 1000 },
];

/** Resolves `tag` if the engine has it, else builds it; says whether it built. */
export async function ensureImage(tag: string, build: () => Promise<void>): Promise<boolean> {
  try {
    await docker(['image', 'inspect', '--format', '{{.Id}}', tag]);
    return false;
  } catch {
    await build();
    return true;
  }
}

/**
 * An image of host binaries (with their libraries) and files, tagged `handover-e2e/<repository>:<content hash>`:
 * built once, found afterwards. How `haproxy` or another server gets an image here.
 */
export async function hostImage(repository: string, spec: RootfsSpec): Promise<string> {
  const tag = `handover-e2e/${repository}:${rootfsHash(spec)}`;
  await ensureImage(tag, () => importRootfs(tag, spec, e2ePath('build', `rootfs-${repository}`)));
  return tag;
}

/**
 * Stands in for `node:20-bookworm-slim`: this machine's `node` and its libraries, `/bin/sh`
 * (dash, for shell-form health checks and `sh -c`), users root and node, /tmp. No npm, no
 * yarn, no entrypoint script: the apps are deployed on the host (see {@link workspaceImage}).
 */
export function nodeImage(node = process.execPath): Promise<string> {
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  return hostImage('node', {
    binaries: [{ from: node, to: '/usr/local/bin/node' }, { from: '/bin/sh' }],
    files: users,
    dirs,
    changes: [`ENV ${PATH}`, `ENV NODE_VERSION=${version.slice(1)}`, 'CMD ["node"]'],
  });
}

/**
 * Stands in for the official `nats` image: this machine's `nats-server` as the entrypoint, so a
 * service's command (`-js -sd /data`) is its arguments, as with the official image.
 */
export function natsImage(natsServer = '/usr/sbin/nats-server'): Promise<string> {
  return hostImage('nats', {
    binaries: [{ from: natsServer, to: '/usr/local/bin/nats-server' }, { from: '/bin/sh' }],
    files: users,
    dirs: [...dirs, { path: '/data', mode: 0o755 }],
    changes: [`ENV ${PATH}`, 'ENTRYPOINT ["nats-server"]', 'EXPOSE 4222 6222 8222'],
  });
}

/**
 * A second tag of `image` that differs only in `ENV HANDOVER_VERSION`, as a new release's
 * image would: what `docker service update --image` rolls to.
 */
export async function versionedImage(image: string, version: string): Promise<string> {
  const [repository, hash] = image.split(':') as [string, string];
  const tag = `${repository}:${version}-${hash}`;
  await ensureImage(tag, async () => {
    const context = e2ePath('build', `${repository.replace(/\W/g, '_')}-${version}`);
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'Dockerfile'), `FROM ${image}\nENV HANDOVER_VERSION=${version}\n`);
    await docker(['build', '-q', '-t', tag, context]);
  });
  return tag;
}

/**
 * Removes handover-e2e images other than `keep` (older builds); skips those still in use. With
 * `repositories` (e.g. `['express-app', 'haproxy']`), only images of those: a scenario then
 * leaves the other scenarios' images in place.
 */
export async function pruneImages(
  keep: readonly string[],
  repositories?: readonly string[],
): Promise<void> {
  const mine = (tag: string) =>
    !repositories || repositories.some((r) => tag.startsWith(`handover-e2e/${r}:`));
  const tags = (await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']))
    .split('\n')
    .filter((tag) => tag.startsWith('handover-e2e/') && !keep.includes(tag) && mine(tag));
  for (const tag of tags) await docker(['image', 'rm', tag]).catch(() => {});
}
