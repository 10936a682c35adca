// Root filesystems made of this machine's binaries, imported as images: no image registry is
// reachable from Docker here, so `node:20-bookworm-slim` and `nats` are replaced by the same
// programs copied from the host, with the shared libraries `ldd` lists.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { docker } from './docker.js';

/** What goes into a root filesystem. */
export interface RootfsSpec {
  /** Host executables, copied (symlinks followed) with every library `ldd` lists for them. */
  readonly binaries: readonly { readonly from: string; readonly to?: string }[];
  /** Files written as given: path in the image → content. */
  readonly files?: Readonly<Record<string, string>>;
  /** Directories with their mode and owner (e.g. /tmp 1777, a user's home). */
  readonly dirs?: readonly {
    readonly path: string;
    readonly mode: number;
    readonly uid?: number;
  }[];
  /** Dockerfile instructions applied by `docker import --change` (ENV, CMD, ENTRYPOINT...). */
  readonly changes?: readonly string[];
}

/** The shared libraries (absolute paths, loader included) that `binary` needs. */
export function sharedLibraries(binary: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  } catch {
    return []; // "not a dynamic executable": nothing to add
  }
  return [...out.matchAll(/(\/\S+)\s+\(0x/g)].map((m) => m[1] as string);
}

/** Every host file of the spec with its place in the image: [from, to]. */
function hostFiles(spec: RootfsSpec): [string, string][] {
  const pairs = new Map<string, string>();
  for (const { from, to = from } of spec.binaries) {
    pairs.set(to, from);
    for (const lib of sharedLibraries(from)) pairs.set(lib, lib);
  }
  return [...pairs]
    .map(([to, from]) => [from, to] as [string, string])
    .sort((a, b) => (a[1] < b[1] ? -1 : 1));
}

/** A short content hash of the spec and of every host file it copies: the image's tag. */
export function rootfsHash(spec: RootfsSpec): string {
  const hash = createHash('sha256').update(JSON.stringify({ ...spec, recipe: 1 }));
  for (const [from, to] of hostFiles(spec)) hash.update(`${to}\0`).update(readFileSync(from));
  return hash.digest('hex').slice(0, 12);
}

/** Stages the root filesystem under `stage` and `docker import`s it as `tag`. */
export async function importRootfs(tag: string, spec: RootfsSpec, stage: string): Promise<void> {
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  for (const [from, to] of hostFiles(spec)) {
    mkdirSync(join(stage, dirname(to)), { recursive: true });
    cpSync(from, join(stage, to), { dereference: true });
  }
  for (const [path, content] of Object.entries(spec.files ?? {})) {
    mkdirSync(join(stage, dirname(path)), { recursive: true });
    writeFileSync(join(stage, path), content);
  }
  for (const { path, mode, uid } of spec.dirs ?? []) {
    mkdirSync(join(stage, path), { recursive: true });
    chmodSync(join(stage, path), mode);
    if (uid !== undefined) chownSync(join(stage, path), uid, uid);
  }
  const tar = spawn('tar', ['--numeric-owner', '-C', stage, '-c', '.'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const changes = (spec.changes ?? []).flatMap((change) => ['--change', change]);
  await docker(['import', ...changes, '-', tag], { input: tar.stdout });
  rmSync(stage, { recursive: true, force: true });
}
