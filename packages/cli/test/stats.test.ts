import { describe, expect, it } from 'vitest';
import { runBin, useNats } from './helpers.js';

const { server, nc, worker } = useNats();

describe('handover stats <service>', () => {
  it("collects every instance's $SRV STATS: requests, errors, processing time, state", async () => {
    const workers = ['counted-1', 'counted-2'].map((id) =>
      worker({ SERVICE: 'counted', HANDOVER_WORKER_ID: id, VERSION: '3.0.0', TASK_MS: '5' }),
    );
    await Promise.all(
      workers.map((w) => w.waitForLog((line) => line.msg === 'ready', { timeoutMs: 15_000 })),
    );
    const sent = 40;
    const failing = 3;
    await Promise.all(
      Array.from({ length: sent }, (_, i) =>
        nc().request(
          'handover.counted.tasks',
          JSON.stringify(i < failing ? { fail: 'task-error' } : { i }),
          {
            timeout: 5000,
          },
        ),
      ),
    );

    const { code, stdout, stderr } = await runBin(['stats', 'counted', '-s', server().url]);
    expect(code, stderr).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^ID +INSTANCE +VERSION +STATE +INFLIGHT +REQUESTS +ERRORS +AVG TIME +UPTIME +LAST ERROR$/,
    );
    for (const id of ['counted-1', 'counted-2']) {
      expect(stdout).toMatch(
        new RegExp(`^${id} +[0-9A-Za-z]{22} +3\\.0\\.0 +ready +0 +\\d+ +\\d+ +`, 'm'),
      );
    }
    expect(lines.at(-1)).toBe(`counted: 2 instances, ${sent} requests, ${failing} errors`);

    const json = await runBin([
      'stats',
      'counted',
      '--json',
      '--wait',
      '500ms',
      '-s',
      server().url,
    ]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.service).toBe('counted');
    expect(doc.instances.map((i: { id: string }) => i.id)).toEqual(['counted-1', 'counted-2']);
    const total = (key: string) =>
      doc.instances.reduce((n: number, i: Record<string, number>) => n + (i[key] ?? 0), 0);
    expect(total('requests')).toBe(sent);
    expect(total('errors')).toBe(failing);
    for (const instance of doc.instances) {
      expect(instance).toMatchObject({
        version: '3.0.0',
        state: 'ready',
        inflight: 0,
        endpoints: [expect.objectContaining({ name: 'tasks', subject: 'handover.counted.tasks' })],
      });
      expect(instance.instance).toMatch(/^[0-9A-Za-z]{22}$/);
      if (instance.requests > 0) expect(instance.averageProcessingTimeNs).toBeGreaterThan(0);
    }
    for (const w of workers) w.signal('SIGTERM');
    await Promise.all(workers.map((w) => w.waitForExit()));

    // The bucket is still there, nobody answers: not an error.
    const idle = await runBin(['stats', 'counted', '--wait', '200ms', '-s', server().url]);
    expect(idle.code).toBe(0);
    expect(idle.stdout).toBe('counted: no instance answered $SRV.STATS.counted\n');
  });
});
