import { writeFileSync } from 'node:fs';
import { type Child, spawnNode, waitFor } from '@handover/testkit';
import { describe, expect, it } from 'vitest';
import { run } from '../src/index.js';
import { bin, capture, useNats } from './helpers.js';

const { server, nc, worker } = useNats();
const ready = (child: Child) =>
  child.waitForLog((line) => line.msg === 'ready', { timeoutMs: 15_000 });
/** `handover watch` as a child process whose stdout is a pipe, not a terminal. */
const watch = (...args: string[]) =>
  spawnNode(bin, { args: ['watch', ...args, '--server', server().url], env: { NATS_URL: '' } });
const line = (child: Child, pattern: RegExp, what: string) =>
  waitFor(() => child.lines.find((l) => pattern.test(l)), { timeoutMs: 15_000, what });

describe('handover watch <service>', () => {
  it('prints a start-first roll of 3 workers under load as it happens, one line per transition', async () => {
    const env = (id: string, version: string) => ({
      SERVICE: 'roll',
      HANDOVER_WORKER_ID: id,
      VERSION: version,
      CONCURRENCY: '8',
      TASK_MS: '150',
    });
    const old = ['roll-1', 'roll-2', 'roll-3'].map((id) => worker(env(id, '1.0.0')));
    await Promise.all(old.map(ready));
    const watcher = watch('roll');
    await waitFor(() => watcher.lines.filter((l) => / present /.test(l)).length === 3, {
      timeoutMs: 15_000,
      what: 'the 3 workers present at start',
    });

    // Steady load, so that each old worker has tasks to finish when it drains.
    let loading = true;
    let ok = 0;
    let failed = 0;
    const lanes = Array.from({ length: 6 }, async () => {
      while (loading) {
        await nc()
          .request('handover.roll.tasks', '{}', { timeout: 5000 })
          .then(
            () => ok++,
            () => failed++,
          );
      }
    });
    await waitFor(() => ok >= 30, { what: 'steady load', timeoutMs: 15_000 });
    const replacements: Child[] = [];
    const exits: (number | null)[] = [];
    for (let i = 1; i <= 3; i++) {
      // Like `docker service update --update-order start-first`: the new one ready first,
      // as the watch itself reports it, then SIGTERM to an old one.
      const fresh = worker(env(`roll-new-${i}`, '2.0.0'));
      replacements.push(fresh);
      await line(watcher, new RegExp(` ready +roll-new-${i} `), `roll-new-${i} ready`);
      old[i - 1]?.signal('SIGTERM');
      exits.push((await old[i - 1]?.waitForExit())?.code ?? null);
      await line(watcher, new RegExp(` gone +roll-${i} `), `roll-${i} gone`);
    }
    const before = ok;
    await waitFor(() => ok >= before + 30, { what: 'load after the roll', timeoutMs: 15_000 });
    loading = false;
    await Promise.all(lanes);
    watcher.signal('SIGINT');
    const { code } = await watcher.waitForExit(5000);
    for (const w of replacements) w.signal('SIGTERM');
    await Promise.all(replacements.map((w) => w.waitForExit()));

    const output = watcher.lines.join('\n');
    // HANDOVER_CLI_CAPTURE=<file> keeps the output (docs/operations.md shows one).
    if (process.env.HANDOVER_CLI_CAPTURE) {
      const footer = `# ${ok} requests during the test, ${failed} failed`;
      writeFileSync(process.env.HANDOVER_CLI_CAPTURE, `${output}\n${footer}\n`);
    }
    expect(code, watcher.stderr()).toBe(0);
    expect(watcher.stderr()).toBe('');
    expect(exits).toEqual([0, 0, 0]);
    expect(failed, `requests that failed during the roll, of ${ok + failed}`).toBe(0);
    const at = (pattern: RegExp) => watcher.lines.findIndex((l) => pattern.test(l));
    for (let i = 1; i <= 3; i++) {
      const readyAt = at(
        new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  ready +roll-new-${i} +2\\.0\\.0  \\[`),
      );
      const drainingAt = at(new RegExp(`  draining +roll-${i} +1\\.0\\.0  SIGTERM  \\[`));
      const goneAt = at(
        new RegExp(`  gone +roll-${i} +1\\.0\\.0  drained in \\d+(ms|\\.\\ds), 0 abandoned  \\[`),
      );
      expect(
        [readyAt, drainingAt, goneAt].every((n) => n >= 0),
        output,
      ).toBe(true);
      expect(readyAt < drainingAt && drainingAt < goneAt, output).toBe(true);
    }
    // One line per transition: 3 present, 3 ready, 3 draining, 3 gone.
    const types = watcher.lines.map((l) => l.split(/ +/)[1]);
    expect(types.sort()).toEqual([
      ...Array(3).fill('draining'),
      ...Array(3).fill('gone'),
      ...Array(3).fill('present'),
      ...Array(3).fill('ready'),
      'watching',
    ]);
    expect(watcher.lines.at(-1)).toMatch(/\[3 ready, 0 draining\]$/);
  }, 90_000);

  it('prints one JSON object per line with --json, a SIGKILLed worker gone as stale', async () => {
    const first = worker({ SERVICE: 'jsonw', HANDOVER_WORKER_ID: 'jsonw-1' });
    await ready(first);
    const watcher = watch('jsonw', '--json');
    const json = () => watcher.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(() => json().some((t) => t.type === 'present'), { what: 'present' });
    const killed = worker({
      SERVICE: 'jsonw',
      HANDOVER_WORKER_ID: 'jsonw-2',
      HANDOVER_HEARTBEAT_MS: '300',
    });
    await waitFor(() => json().some((t) => t.type === 'ready'), {
      what: 'ready',
      timeoutMs: 15_000,
    });
    killed.signal('SIGKILL');
    await waitFor(() => json().some((t) => t.type === 'gone'), {
      what: 'stale',
      timeoutMs: 10_000,
    });
    first.signal('SIGTERM');
    await first.waitForExit();
    await waitFor(() => json().filter((t) => t.type === 'gone').length === 2, { what: 'gone' });
    watcher.signal('SIGINT');
    expect((await watcher.waitForExit(5000)).code).toBe(0);

    const base = { service: 'jsonw', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) };
    const instance = expect.stringMatching(/^[0-9A-Za-z]{22}$/);
    expect(json()).toEqual([
      {
        ...base,
        type: 'watching',
        server: expect.stringMatching(/^nats:\/\/127\.0\.0\.1:\d+$/),
        fleet: { ready: 1, draining: 0 },
      },
      {
        ...base,
        type: 'present',
        id: 'jsonw-1',
        instance,
        version: '1.0.0',
        state: 'ready',
        fleet: { ready: 1, draining: 0 },
      },
      {
        ...base,
        type: 'ready',
        id: 'jsonw-2',
        instance,
        version: '1.0.0',
        fleet: { ready: 2, draining: 0 },
      },
      {
        ...base,
        type: 'gone',
        id: 'jsonw-2',
        instance,
        version: '1.0.0',
        reason: 'stale',
        fleet: { ready: 1, draining: 0 },
      },
      {
        ...base,
        type: 'draining',
        id: 'jsonw-1',
        instance,
        version: '1.0.0',
        reason: 'SIGTERM',
        fleet: { ready: 0, draining: 1 },
      },
      {
        ...base,
        type: 'gone',
        id: 'jsonw-1',
        instance,
        version: '1.0.0',
        reason: 'stopped',
        drainMs: expect.any(Number),
        abandoned: 0,
        fleet: { ready: 0, draining: 0 },
      },
    ]);
  }, 60_000);

  it('outlives a broker restart: says so, and reports what follows', async () => {
    const w = worker({ SERVICE: 'restart', HANDOVER_WORKER_ID: 'restart-1' });
    await ready(w);
    const watcher = watch('restart');
    await line(watcher, / present +restart-1 /, 'present');
    const restarted = Date.now();
    await server().restart();
    await line(watcher, / reconnected +reconnected to /, 'reconnected');
    const outageMs = Date.now() - restarted;
    await w.waitForLog((l) => l.msg === 'reconnected to NATS', { timeoutMs: 15_000 });
    w.signal('SIGTERM');
    expect((await w.waitForExit()).code).toBe(0);
    await line(watcher, / gone +restart-1 +1\.0\.0 +drained in /, 'gone after the restart');
    watcher.signal('SIGINT');
    expect((await watcher.waitForExit(5000)).code).toBe(0);
    const types = watcher.lines.map((l) => l.split(/ +/)[1]);
    const shown = `${watcher.lines.join('\n')}\n(broker away for ${outageMs} ms)`;
    expect(types.slice(0, 4), shown).toEqual([
      'watching',
      'present',
      'disconnected',
      'reconnected',
    ]);
    expect(types.slice(-2), shown).toEqual(['draining', 'gone']);
    // The worker was never dropped: a watch drops no one while its own connection is down.
    expect(types, shown).toHaveLength(6);
  }, 60_000);

  it('redraws the table in place on a terminal, and leaves the last frame on exit', async () => {
    const w = worker({ SERVICE: 'ttyw', HANDOVER_WORKER_ID: 'ttyw-1', VERSION: '1.2.3' });
    await ready(w);
    const stdout = capture(true);
    const stderr = capture();
    const stop = new AbortController();
    const running = run(['watch', 'ttyw', '-s', server().url], {
      stdout,
      stderr,
      env: {},
      signal: stop.signal,
      timeZone: 'UTC',
    });
    await waitFor(() => /^ttyw-1 +1\.2\.3 +ready /m.test(stdout.text()), { what: 'the table' });
    expect(stdout.text().startsWith('\x1b[?1049h\x1b[?25l\x1b[H')).toBe(true);
    w.signal('SIGTERM');
    await waitFor(() => / gone +ttyw-1 +1\.2\.3 +drained in /.test(stdout.text()), {
      what: 'gone',
    });
    stop.abort();
    expect(await running).toBe(0);
    expect(stderr.text()).toBe('');
    const last = stdout.text().split('\x1b[?25h\x1b[?1049l')[1] ?? '';
    expect(last).toMatch(
      /^handover watch ttyw {2}nats:\/\/127\.0\.0\.1:\d+ {2}\d\d:\d\d:\d\d\n\nttyw: 0 workers \(0 ready, 0 draining\)\n\n/,
    );
    expect(last).toMatch(/ present +ttyw-1 +1\.2\.3 +ready \(at start\)/);
    expect(last).toMatch(/ draining +ttyw-1 +1\.2\.3 +SIGTERM/);
    expect(last).not.toContain('\x1b[');
  }, 30_000);
});
