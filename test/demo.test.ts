import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const demo = fileURLToPath(new URL('../examples/demo/index.mjs', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'handover-demo-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Runs the demo to its end; resolves with its exit code, output and summary.json. */
function run(
  args: string[],
): Promise<{ code: number; stdout: string; summary: Record<string, Record<string, number>> }> {
  return new Promise((resolve, reject) => {
    // Each run writes a fresh summary: a stale one must not pass for this run's.
    rmSync(join(out, 'summary.json'), { force: true });
    execFile(
      process.execPath,
      [demo, '--out', out, ...args],
      { timeout: 110_000, env: { ...process.env, NATS_URL: '' } },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? 1) : 0;
        try {
          const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).summary;
          resolve({ code, stdout, summary });
        } catch {
          reject(new Error(`the demo wrote no summary (exit ${code}):\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

describe('the rolling-update demo', () => {
  it('rolls 3 workers start-first under load with 0 failed requests and 0 lost jobs', async () => {
    const { code, stdout, summary } = await run([
      '--rate',
      '20',
      '--job-rate',
      '5',
      '--duration',
      '1',
      '--update-delay',
      '300',
    ]);
    expect(summary.controller?.failed, stdout).toBe(0);
    expect(summary.plain?.failed, stdout).toBe(0);
    expect(summary.jobs?.lost, stdout).toBe(0);
    expect(summary.controller?.sent).toBeGreaterThan(50);
    expect(summary.jobs?.published).toBeGreaterThan(10);
    expect(code, stdout).toBe(0);
    expect(stdout).toContain('Nothing failed, nothing was lost.');
    expect(readFileSync(join(out, 'timeline.html'), 'utf8')).toContain('<svg');
  }, 120_000);

  it('shows stop-first failing a plain client of a single replica, not the retrying one, and exits 1', async () => {
    const { code, stdout, summary } = await run([
      '--workers',
      '1',
      '--order',
      'stop-first',
      '--rate',
      '20',
      '--job-rate',
      '5',
      '--duration',
      '1',
    ]);
    expect(summary.plain?.failed, stdout).toBeGreaterThan(0);
    expect(summary.controller?.failed, stdout).toBe(0);
    expect(summary.jobs?.lost, stdout).toBe(0);
    expect(code).toBe(1);
  }, 120_000);
});
