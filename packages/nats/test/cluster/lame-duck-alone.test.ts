// A lame duck with nowhere to go: a single nats-server, so no bridge can subscribe elsewhere
// before the worker moves. The move falls back to pausing its intake, says so, and loses
// nothing: what it was given is answered, a request meanwhile is refused at once ("no
// responders"), none waits in vain. Heavy only in time (the move waits for its reconnect).
import {
  type Child,
  type NatsServer,
  spawnNode,
  startNatsServer,
  waitFor,
} from '@handover/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, msg, ready } from '../helpers.js';

const password = 's3cret-in-the-url';
let server: NatsServer;
let requester: NatsConnection;
let worker: Child | undefined;

beforeAll(async () => {
  server = await startNatsServer({
    // The grace period outlasts the test: the server keeps its clients while the worker moves.
    config: [
      'lame_duck_duration: "30s"',
      'lame_duck_grace_period: "25s"',
      `authorization { user: handover, password: "${password}" }`,
    ].join('\n'),
  });
  requester = await connect({ servers: server.url, user: 'handover', pass: password });
});
afterAll(async () => {
  worker?.signal('SIGKILL');
  await requester?.close();
  await server?.dispose();
});

describe('a worker on a single server in lame duck', () => {
  it('falls back to a paused move, warns without the credentials, and loses no task', async () => {
    const service = 'ldmalone';
    worker = spawnNode(fixture, {
      env: {
        NATS_URL: server.url.replace('nats://', `nats://handover:${password}@`),
        SERVICE: service,
        HANDOVER_WORKER_ID: `${service}-1`,
        HANDOVER_LOG_LEVEL: 'info',
        TASK_MS: '300',
      },
    });
    const child = worker;
    await ready(child);
    const answers = { ok: 0, noResponders: 0, other: [] as string[] };
    let running = true;
    const lane = (async () => {
      while (running) {
        try {
          const reply = await requester.request(`handover.${service}.tasks`, '{}', {
            timeout: 5000,
          });
          const code = reply.headers?.get('Nats-Service-Error-Code');
          if (code) answers.other.push(code);
          else answers.ok++;
        } catch (error) {
          const message = (error as Error).message;
          if (/no responders/i.test(message)) answers.noResponders++;
          else answers.other.push(message);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    })();
    await waitFor(() => answers.ok >= 3, { what: 'answers before the lame duck' });
    await server.lameDuck();
    const warned = await child.waitForLog(
      msg(
        'could not subscribe on another NATS server before moving: this worker serves no task while it moves',
      ),
      { timeoutMs: 10_000, what: 'the fallback warning' },
    );
    const move = await child.waitForLog((l) => /move(d)? to another NATS server/.test(`${l.msg}`), {
      timeoutMs: 20_000,
      what: 'the move to end',
    });
    running = false;
    await lane;
    const figures = {
      warned: { level: warned.level, error: warned.error, servers: warned.servers },
      move: { msg: move.msg, pausedMs: move.pausedMs, unservedMs: move.unservedMs },
      answers,
    };
    console.log(`lame duck with no other server: ${JSON.stringify(figures)}`);
    const detail = JSON.stringify(figures);
    expect(warned.level, detail).toBe(40);
    expect(warned.error, detail).toMatch(/no other server/);
    expect(move.bridged, detail).toBe(false);
    expect(move.unservedMs, detail).toBe(move.pausedMs);
    // Answered or refused at once; nothing delivered was dropped unanswered.
    expect(answers.other, detail).toEqual([]);
    expect(child.lines.join('\n')).not.toContain(password);
  }, 60_000);
});
