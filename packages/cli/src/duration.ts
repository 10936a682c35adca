import { usageError } from './errors.js';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/**
 * A duration as NATS tools write it (`5s`, `500ms`, `1.5s`, `2m`), or a bare number of
 * seconds. `flag` names the option in the error; the value is echoed (durations are no secret).
 */
export function parseDuration(flag: string, text: string, { maxMs = 3_600_000 } = {}): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * (units[match[2] ?? 's'] ?? 1000) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 1 || ms > maxMs) {
    throw usageError(
      `Expected \`--${flag}\` to be a duration such as 5s or 500ms (at most ${maxMs / 1000} s), got ${JSON.stringify(text)}`,
    );
  }
  return Math.round(ms);
}
