// A workspace example as an image: the runtime stage of its shipped Dockerfile, on the local
// base image, with the app directory that the Dockerfile's build stage would make (`pnpm deploy
// --prod --legacy`) made on the host instead.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { docker } from './docker.js';
import { ensureImage } from './images.js';
import { e2ePath, repoRoot } from './paths.js';

const run = promisify(execFile);

/** The runtime stage of a Dockerfile, rewritten for a local build; and what was changed. */
export interface RuntimeStage {
  readonly dockerfile: string;
  readonly differences: readonly string[];
}

/**
 * Takes the last stage of `dockerfile`, puts it on `base` instead of its `FROM` image, and
 * replaces its `COPY --from=<stage> <dir> <dest>` with a copy of the host-built `app`
 * directory. Everything else (ENV, USER, HEALTHCHECK, STOPSIGNAL, CMD...) is kept as shipped.
 */
export function runtimeStage(dockerfile: string, base: string): RuntimeStage {
  const lines = dockerfile.split('\n');
  const from = lines.findLastIndex((line) => /^FROM\s/i.test(line));
  if (from < 0) throw new Error('the Dockerfile has no FROM line');
  const stage = lines.slice(from);
  const differences: string[] = [];
  const out = stage.map((line) => {
    const image = /^FROM\s+(\S+)/i.exec(line);
    if (image) {
      differences.push(`FROM ${image[1]} -> FROM ${base} (this machine's node, see nodeImage)`);
      return `FROM ${base}`;
    }
    const copy = /^COPY\s+--from=(\S+)\s+(\S+)\s+(\S+)\s*$/i.exec(line);
    if (copy) {
      differences.push(
        `${line.trim()} -> COPY app ${copy[3]} (built on the host with pnpm deploy --prod --legacy)`,
      );
      return `COPY app ${copy[3]}`;
    }
    return line;
  });
  if (!differences.some((d) => d.startsWith('COPY') || d.includes('COPY')))
    throw new Error('the runtime stage has no `COPY --from=<stage> <dir> <dest>` to replace');
  return { dockerfile: out.join('\n'), differences };
}

/** A content hash of a directory tree (paths, modes, contents, link targets). */
export function treeHash(root: string, skip: (path: string) => boolean = () => false): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(root, path);
      if (skip(rel)) continue;
      const stat = lstatSync(path);
      hash.update(`${rel}\0${stat.mode}\0`);
      if (stat.isSymbolicLink()) hash.update(readlinkSync(path));
      else if (stat.isDirectory()) walk(path);
      else hash.update(readFileSync(path));
    }
  };
  walk(root);
  return hash.digest('hex').slice(0, 12);
}

/** What to build. */
export interface WorkspaceImageOptions {
  /** The workspace package, e.g. `@handover/example-queue-worker`. */
  readonly packageName: string;
  /** Image repository name under `handover-e2e/`, e.g. `queue-worker`. */
  readonly name: string;
  /** The shipped Dockerfile, relative to the repository root. */
  readonly dockerfile: string;
  /** The local stand-in for its runtime base image. */
  readonly base: string;
}

/** Builds (or finds, by content hash) the image of a workspace package. */
export async function workspaceImage(
  options: WorkspaceImageOptions,
): Promise<{ tag: string; differences: readonly string[] }> {
  const context = e2ePath('build', options.name);
  const app = join(context, 'app');
  rmSync(context, { recursive: true, force: true });
  mkdirSync(context, { recursive: true });
  // The same command as the Dockerfile's build stage, into a fixed path so the output (and its
  // hash) is the same from run to run.
  await run(
    process.env.HANDOVER_E2E_PNPM || 'pnpm',
    ['--filter', options.packageName, 'deploy', '--prod', '--legacy', '--prefer-offline', app],
    { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 },
  );
  const handover = join(app, 'node_modules', '@handover');
  for (const dep of existsSync(handover) ? readdirSync(handover) : []) {
    if (!existsSync(join(handover, dep, 'dist')))
      throw new Error(`@handover/${dep} has no dist in the deployed app: run \`pnpm build\` first`);
  }
  const stage = runtimeStage(
    readFileSync(join(repoRoot, options.dockerfile), 'utf8'),
    options.base,
  );
  writeFileSync(join(context, 'Dockerfile'), stage.dockerfile);
  // pnpm's .modules.yaml records when it ran; nothing else in the tree changes between runs.
  const hash = treeHash(context, (rel) => rel === join('app', 'node_modules', '.modules.yaml'));
  const tag = `handover-e2e/${options.name}:${hash}`;
  await ensureImage(tag, async () => {
    await docker(['build', '-q', '-t', tag, context]);
  });
  return { tag, differences: stage.differences };
}
