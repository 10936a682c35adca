import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './paths.js';
import { runtimeStage } from './workspace-image.js';

const shipped = readFileSync(join(repoRoot, 'examples/deploy/Dockerfile'), 'utf8');

describe('runtimeStage', () => {
  it('keeps the shipped runtime stage, with only its base image and the app copy replaced', () => {
    const { dockerfile, differences } = runtimeStage(shipped, 'handover-e2e/node:abc');
    const lines = dockerfile.split('\n');
    expect(lines[0]).toBe('FROM handover-e2e/node:abc');
    expect(lines).toContain('COPY app ./');
    expect(dockerfile).not.toContain('--from=');
    expect(dockerfile).not.toContain('pnpm install');
    // Every other instruction of the last stage, as shipped.
    const stage = shipped.slice(shipped.lastIndexOf('\nFROM ') + 1).split('\n');
    const kept = stage.filter((line) => !/^(FROM|COPY --from)/.test(line));
    for (const line of kept) expect(lines).toContain(line);
    expect(differences).toHaveLength(2);
  });

  it('refuses a Dockerfile whose runtime stage copies nothing from a build stage', () => {
    expect(() => runtimeStage('FROM node:20\nCOPY . .\nCMD ["node"]\n', 'base')).toThrow(
      /COPY --from/,
    );
  });
});
