import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packages = fileURLToPath(new URL('../packages/', import.meta.url));
const published = readdirSync(packages).filter((name) => {
  const manifest = JSON.parse(readFileSync(`${packages}${name}/package.json`, 'utf8'));
  return manifest.private !== true;
});

describe.each(published)('packages/%s/README.md (shown on the npm page)', (name) => {
  const readme = readFileSync(`${packages}${name}/README.md`, 'utf8');

  it('links with absolute URLs: a relative link breaks on npm', () => {
    const relative = [...readme.matchAll(/\]\((?!https?:\/\/|#)([^)]+)\)/g)].map((m) => m[1]);
    expect(relative).toEqual([]);
  });

  it('tells users to install with npm', () => {
    expect(readme).not.toMatch(/\b(pnpm|yarn) add\b/);
    expect(readme).toMatch(/npm install @handover\//);
  });
});
