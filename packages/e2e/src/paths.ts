import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (mounted read-only into load containers at the same path). */
export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url)).replace(
  /\/$/,
  '',
);

/**
 * Where the private engine and the image build contexts live: `HANDOVER_E2E_DIR`, default
 * `/var/lib/handover-e2e` (the same default as scripts/docker.sh).
 */
export function e2eDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HANDOVER_E2E_DIR || '/var/lib/handover-e2e';
}

/** A path under {@link e2eDir}. */
export function e2ePath(...parts: string[]): string {
  return join(e2eDir(), ...parts);
}
