import { describeError } from '@handover/core';
import { redactServer, type WorkerWatch, watchWorkers } from '@handover/nats/controller';
import { parseEvent } from '@handover/nats/wire';
import type { NatsConnection } from '@nats-io/transport-node';
import { CliError } from './errors.js';
import { formatClock } from './format.js';
import type { Context } from './io.js';
import { jsonLine, PlainLines } from './lines.js';
import { LiveView } from './live-view.js';
import { readSightings, registryManager, requireBucket } from './registry.js';
import { renderViews } from './render.js';
import { Screen } from './screen.js';
import { type Timers, type Transition, Transitions } from './transitions.js';

/** What `handover watch` is asked. */
export interface WatchRequest {
  readonly service: string;
  readonly prefix: string;
  readonly json: boolean;
  readonly timeoutMs: number;
  /** The servers as shown (credentials redacted), for the terminal's header. */
  readonly servers: string;
}

/** How many transitions the terminal page keeps under the table. */
const recentLines = 12;
const timers: Omit<Timers, 'now'> = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Follows `service` until `ctx.signal` fires (exit 0) or the watch fails (an error). Writes a
 * redrawn page on a terminal, one line per transition otherwise, one JSON object per line
 * with `--json`.
 */
export async function watchService(
  nc: NatsConnection,
  ctx: Context,
  request: WatchRequest,
): Promise<void> {
  const { service, prefix } = request;
  await requireBucket(await registryManager(nc), service);
  const read = await readSightings(nc, service, ctx.now, request.timeoutMs);
  const live = new LiveView(service);
  const plain = new PlainLines(ctx.timeZone);
  const tty = !request.json && ctx.stdout.isTTY === true;
  const screen = new Screen(ctx.stdout);
  const recent: string[] = [];
  let workers: WorkerWatch | undefined;

  const frame = (final = false): string[] => {
    const now = ctx.now();
    const view = live.view(now, workers?.stalled() ?? false);
    const time = formatClock(now, ctx.timeZone).slice(0, 8);
    const head = `handover watch ${service}  ${request.servers}  ${time}${final ? '' : '  (Ctrl-C to stop)'}`;
    const body = renderViews([view], false).trimEnd().split('\n');
    return [head, '', ...body, ...(recent.length > 0 ? ['', ...recent] : [])];
  };
  let drawPending: ReturnType<typeof setTimeout> | undefined;
  let ending = false;
  const redraw = (): void => {
    if (!tty || ending || drawPending) return;
    drawPending = setTimeout(() => {
      drawPending = undefined;
      screen.draw(frame());
    }, 50);
  };
  const emit = (t: Transition): void => {
    if (request.json) ctx.stdout.write(`${jsonLine(service, t)}\n`);
    else if (!tty) ctx.stdout.write(`${plain.format(t)}\n`);
    else {
      recent.push(plain.format(t));
      recent.splice(0, Math.max(0, recent.length - recentLines));
      redraw();
    }
  };
  const transitions = new Transitions(emit, { now: ctx.now, ...timers });
  const events = nc.subscribe(`${prefix}.${service}.events.>`, {
    callback: (error, msg) => {
      const event = error ? undefined : parseEvent(msg.data);
      if (event && event.service === service) transitions.event(event);
    },
  });
  const intervals: ReturnType<typeof setInterval>[] = [];
  try {
    workers = await watchWorkers(nc, service, { prefix });
    await bounded(workers.loaded, request.timeoutMs, `the workers of ${service}`);
    const first = workers.snapshot();
    live.seed(first, read, ctx.now());
    transitions.seed(first, request.servers);
    const watch = workers;
    const consuming = (async () => {
      for await (const change of watch) {
        live.apply(change);
        transitions.change(change);
        redraw();
      }
    })();
    const checkStall = stallNotice(watch, live, transitions, ctx.now);
    intervals.push(setInterval(checkStall, 250));
    if (tty) {
      screen.draw(frame());
      intervals.push(setInterval(() => screen.draw(frame()), 1000));
    }
    void followStatus(nc, transitions);
    const stopped = new Promise<undefined>((resolve) => {
      if (ctx.signal.aborted) resolve(undefined);
      ctx.signal.addEventListener('abort', () => resolve(undefined), { once: true });
    });
    const failure = await Promise.race([stopped, watch.closed]);
    await watch.stop();
    await consuming;
    if (failure) {
      throw new CliError('HANDOVER_E_CLI_BROKER', `the watch ended: ${describeError(failure)}`, {
        cause: failure,
      });
    }
  } finally {
    ending = true;
    for (const interval of intervals) clearInterval(interval);
    clearTimeout(drawPending);
    transitions.flush();
    events.unsubscribe();
    await workers?.stop();
    if (tty) screen.end(frame(true));
  }
}

/**
 * A `stalled` line when `watchWorkers` keeps workers silent for more than 3 × heartbeat (they
 * answered `$SRV.PING`: the registry stalled, not them), `resumed` when writes come again.
 * A silence that ends with the workers dropped as stale is their death, not a stall.
 */
function stallNotice(
  watch: WorkerWatch,
  live: LiveView,
  transitions: Transitions,
  now: () => number,
): () => void {
  let shown = false;
  return () => {
    const at = now();
    if (!shown && watch.stalled() && live.longestSilence(at) > 3) {
      shown = true;
      transitions.note('stalled', { silentMs: live.view(at, true).silentMs ?? 0 });
    } else if (shown && !watch.stalled()) {
      shown = false;
      transitions.note('resumed');
    }
  };
}

async function followStatus(nc: NatsConnection, transitions: Transitions): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect') transitions.note('disconnected');
    else if (status.type === 'reconnect') {
      transitions.note('reconnected', { server: redactServer(status.server) });
    }
  }
}

async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new CliError('HANDOVER_E_CLI_BROKER', `${what} did not load within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
