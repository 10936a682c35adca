import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Finds an executable: the path in the environment variable `override` if set, then `name` on
 * `PATH`, then the given fallbacks (Debian installs servers in /usr/sbin, which is not on
 * every user's PATH).
 */
export function findBinary(
  name: string,
  override: string,
  fallbacks: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const candidates = [
    env[override],
    ...(env.PATH ?? '').split(delimiter).map((dir) => dir && join(dir, name)),
    ...fallbacks,
  ];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}
