import type { WorkerChange } from '@handover/nats/controller';
import type { WorkerEntry, WorkerEvent } from '@handover/nats/wire';

/** A moment of a watched deploy: one worker's change of state, or the registry's. */
export interface Transition {
  readonly type:
    | 'watching'
    | 'present'
    | 'ready'
    | 'draining'
    | 'gone'
    | 'stalled'
    | 'resumed'
    | 'disconnected'
    | 'reconnected';
  /** Local epoch ms at which it was seen. */
  readonly at: number;
  readonly worker?: Pick<WorkerEntry, 'id' | 'instance' | 'version' | 'heartbeatMs'>;
  /** `present`: the worker's state when watching began. */
  readonly state?: WorkerEntry['state'];
  /**
   * `draining`: why (`SIGTERM`, `drain-endpoint`, `failed: uncaughtException`...), when the
   * worker's event said; `gone`: `stopped` (with `drainMs` and `abandoned`), `deleted` (the
   * entry went without a `stopped` event), `stale` (silent for 3 × heartbeat) or `replaced`
   * (another instance took the id).
   */
  readonly reason?: string;
  readonly drainMs?: number;
  readonly abandoned?: number;
  /** `stalled`: since the registry's last write. */
  readonly silentMs?: number;
  /** `watching`, `reconnected`: the server(s), credentials redacted. */
  readonly server?: string;
  /** The live workers right after it. */
  readonly fleet: { readonly ready: number; readonly draining: number };
}

/** Timers, injected so that a unit test controls them. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** How long a worker announced by its `ready` event waits for its registry entry. */
const unconfirmedMs = 10_000;

/** Events of instances that never show up in the registry are forgotten after this. */
const forgetAfterMs = 10 * 60_000;

type WorkerTransition = Omit<Transition, 'fleet'>;
interface Heard {
  /** Local time it was first heard of, to forget instances never seen in the registry. */
  readonly since: number;
  reason?: string;
  drainMs?: number;
  abandoned?: number;
  stopped?: true;
}

/**
 * Turns `watchWorkers` changes and the workers' own events into transitions, once each. The
 * registry says what happened, the events say it sooner and add the details: a `ready` event
 * is shown before its entry arrives, a `draining` waits up to
 * `settleMs` for its reason, and a deleted entry waits for its `stopped` event (published
 * just after the delete) to tell the drain time and the tasks abandoned.
 */
export class Transitions {
  readonly #live = new Map<string, WorkerEntry>();
  readonly #heard = new Map<string, Heard>();
  readonly #pending = new Map<string, { step: WorkerTransition; timer: unknown }>();
  /** Instances announced by their `ready` event, not yet seen in the registry. */
  readonly #unconfirmed = new Map<string, unknown>();
  #seeded = false;
  readonly #emit: (t: Transition) => void;
  readonly #timers: Timers;
  readonly #settleMs: number;

  constructor(emit: (t: Transition) => void, timers: Timers, settleMs = 1000) {
    this.#emit = emit;
    this.#timers = timers;
    this.#settleMs = settleMs;
  }

  /**
   * Watching began at `server`: one `watching`, then one `present` for each worker live then,
   * with its state.
   */
  seed(workers: readonly WorkerEntry[], server: string): void {
    for (const worker of workers) this.#live.set(worker.id, worker);
    this.#seeded = true;
    const at = this.#timers.now();
    this.#send({ type: 'watching', at, server });
    for (const worker of [...workers].sort((a, b) => a.id.localeCompare(b.id))) {
      this.#send({ type: 'present', at, worker, state: worker.state });
    }
  }

  /** A change of `watchWorkers`. */
  change(change: WorkerChange): void {
    const { worker, at } = change;
    const before = this.#live.get(worker.id);
    if (change.type === 'removed') {
      if (before?.instance !== worker.instance) return;
      this.#releaseDraining(worker.instance);
      this.#live.delete(worker.id);
      this.#gone(worker, at, change.reason ?? 'deleted');
      return;
    }
    if (before && before.instance !== worker.instance) {
      this.#releaseDraining(before.instance);
      this.#live.delete(worker.id);
      this.#gone(before, at, 'replaced');
    }
    const known = before?.instance === worker.instance;
    this.#confirm(worker.instance);
    this.#live.set(worker.id, worker);
    if (!known && worker.state === 'ready') this.#send({ type: 'ready', at, worker });
    else if (worker.state === 'draining' && (!known || before?.state !== 'draining')) {
      const heard = this.#heard.get(worker.instance);
      const step = { type: 'draining' as const, at, worker };
      if (heard?.reason !== undefined) this.#send({ ...step, reason: heard.reason });
      else this.#hold(worker.instance, step);
    }
  }

  /** A lifecycle event of a worker (`<prefix>.<svc>.events.<id>`). */
  event(event: WorkerEvent): void {
    const now = this.#timers.now();
    for (const [instance, old] of this.#heard) {
      if (now - old.since > forgetAfterMs && !this.#pending.has(instance)) {
        this.#heard.delete(instance);
      }
    }
    const heard = this.#heard.get(event.instance) ?? { since: now };
    this.#heard.set(event.instance, heard);
    if (event.type === 'draining' || event.type === 'failed') {
      heard.reason = event.type === 'failed' ? `failed: ${event.reason}` : event.reason;
    } else if (event.type === 'stopped') {
      Object.assign(heard, { stopped: true, drainMs: event.drainMs, abandoned: event.abandoned });
    } else if (event.type === 'ready' && this.#seeded && !this.#live.has(event.id)) {
      this.#announce(event, now);
    }
    const held = this.#pending.get(event.instance);
    if (!held) return;
    if (held.step.type === 'draining' && heard.reason !== undefined) {
      this.#release(event.instance, { reason: heard.reason });
    } else if (held.step.type === 'gone' && heard.stopped) {
      this.#release(event.instance, stoppedDetails(heard));
    }
  }

  /** Sends a transition that is not a worker's (`stalled`, `reconnected`...). */
  note(type: Transition['type'], details: Omit<WorkerTransition, 'type' | 'at'> = {}): void {
    this.#send({ type, at: this.#timers.now(), ...details });
  }

  /** Sends what is still held (at the end of a watch) and stops its timers. */
  flush(): void {
    for (const instance of [...this.#pending.keys()]) this.#release(instance, {});
    for (const instance of [...this.#unconfirmed.keys()]) this.#confirm(instance);
  }

  /**
   * A worker's `ready` event, ahead of its entry: the event travels on core NATS, the entry
   * through this watcher's own JetStream consumer, which may deliver it later than another
   * process saw it (a deploy tool that waits for the entry, then stops an old worker, would
   * otherwise show the old one draining first). The entry confirms it; one that never comes
   * within `unconfirmedMs` leaves it out of the fleet again, without a line.
   */
  #announce(event: WorkerEvent, at: number): void {
    const worker = {
      id: event.id,
      instance: event.instance,
      version: event.version,
      state: 'ready',
      heartbeatMs: 1000,
    } as WorkerEntry;
    this.#live.set(worker.id, worker);
    const timer = this.#timers.setTimeout(() => {
      this.#unconfirmed.delete(worker.instance);
      if (this.#live.get(worker.id) === worker) this.#live.delete(worker.id);
    }, unconfirmedMs);
    this.#unconfirmed.set(worker.instance, timer);
    this.#send({ type: 'ready', at, worker });
  }

  #confirm(instance: string): void {
    if (!this.#unconfirmed.has(instance)) return;
    this.#timers.clearTimeout(this.#unconfirmed.get(instance));
    this.#unconfirmed.delete(instance);
  }

  /** A draining still waiting for its reason goes out before the worker's gone. */
  #releaseDraining(instance: string): void {
    if (this.#pending.get(instance)?.step.type === 'draining') this.#release(instance, {});
  }

  #gone(worker: WorkerEntry, at: number, reason: string): void {
    const heard = this.#heard.get(worker.instance);
    const step = { type: 'gone' as const, at, worker, reason };
    if (heard?.stopped) this.#send({ ...step, ...stoppedDetails(heard) });
    else if (reason === 'deleted') this.#hold(worker.instance, step);
    else this.#send(step);
    if (!this.#pending.has(worker.instance)) this.#heard.delete(worker.instance);
  }

  #hold(instance: string, step: WorkerTransition): void {
    const timer = this.#timers.setTimeout(() => this.#release(instance, {}), this.#settleMs);
    this.#pending.set(instance, { step, timer });
  }

  #release(instance: string, details: Partial<WorkerTransition>): void {
    const held = this.#pending.get(instance);
    if (!held) return;
    this.#pending.delete(instance);
    this.#timers.clearTimeout(held.timer);
    this.#send({ ...held.step, ...details });
    if (held.step.type === 'gone') this.#heard.delete(instance);
  }

  #send(step: WorkerTransition): void {
    let ready = 0;
    let draining = 0;
    for (const worker of this.#live.values()) {
      if (worker.state === 'ready') ready++;
      else draining++;
    }
    const worker = step.worker && {
      id: step.worker.id,
      instance: step.worker.instance,
      version: step.worker.version,
      heartbeatMs: step.worker.heartbeatMs,
    };
    this.#emit({ ...step, ...(worker ? { worker } : {}), fleet: { ready, draining } });
  }
}

const stoppedDetails = (heard: Heard) => ({
  reason: 'stopped',
  ...(heard.drainMs === undefined ? {} : { drainMs: heard.drainMs }),
  ...(heard.abandoned === undefined ? {} : { abandoned: heard.abandoned }),
});
