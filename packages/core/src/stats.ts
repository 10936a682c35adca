/** How a piece of work ended, as core sees it (adapters count their protocol answers apart). */
export type TaskOutcome = 'ok' | 'error' | 'cut_off';

/** Upper bounds (seconds) of the task duration histogram, Prometheus-style. */
export const durationBuckets: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** The work of one kind (`nats`, `jetstream`, `http`, `task`): counts and durations. */
export interface KindStats {
  readonly kind: string;
  /** Finished work by outcome. */
  readonly outcomes: Readonly<Record<TaskOutcome, number>>;
  /** Per bound of {@link durationBuckets}: how many took at most that long (cumulative). */
  readonly buckets: readonly number[];
  /** Total seconds of all finished work, and how many. */
  readonly sum: number;
  readonly count: number;
}

/** A counter an adapter keeps through its context (`count()`). */
export interface CounterValue {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** What the worker has counted since stats were enabled: for a metrics exporter. */
export interface WorkerStats {
  readonly kinds: readonly KindStats[];
  readonly counters: readonly CounterValue[];
}

interface MutableKind {
  kind: string;
  outcomes: Record<TaskOutcome, number>;
  buckets: number[];
  sum: number;
  count: number;
}

/** The kind of a task from its name: the part before `:` (`http:GET` → `http`). */
function kindOf(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? 'task' : name.slice(0, colon);
}

const noLabels: Readonly<Record<string, string>> = Object.freeze({});
/** Each label object's key, made once: label objects are not changed after use. */
const labelKeys = new WeakMap<object, string>();

/**
 * Counts finished work and adapters' counters. Off until {@link enable}: counting costs a
 * little on every request, and only a metrics exporter reads it.
 */
export class Stats {
  #enabled = false;
  #onEnable: (() => void)[] = [];
  readonly #kinds = new Map<string, MutableKind>();
  readonly #counters = new Map<
    string,
    { name: string; labels: Record<string, string>; value: number }
  >();

  get enabled(): boolean {
    return this.#enabled;
  }

  enable(): void {
    if (this.#enabled) return;
    this.#enabled = true;
    const listeners = this.#onEnable;
    this.#onEnable = [];
    for (const listener of listeners) listener();
  }

  /** Calls `listener` once stats are enabled: now if they are. */
  whenEnabled(listener: () => void): void {
    if (this.#enabled) listener();
    else this.#onEnable.push(listener);
  }

  /** One piece of work ended after `seconds`. */
  task(name: string, outcome: TaskOutcome, seconds: number): void {
    if (!this.#enabled) return;
    const kind = kindOf(name);
    let stats = this.#kinds.get(kind);
    if (stats === undefined) {
      stats = {
        kind,
        outcomes: { ok: 0, error: 0, cut_off: 0 },
        buckets: durationBuckets.map(() => 0),
        sum: 0,
        count: 0,
      };
      this.#kinds.set(kind, stats);
    }
    stats.outcomes[outcome]++;
    stats.sum += seconds;
    stats.count++;
    for (
      let i = durationBuckets.length - 1;
      i >= 0 && seconds <= (durationBuckets[i] as number);
      i--
    ) {
      stats.buckets[i] = (stats.buckets[i] as number) + 1;
    }
  }

  /** Adds `by` to an adapter's counter. */
  count(name: string, labels: Readonly<Record<string, string>> = noLabels, by = 1): void {
    if (!this.#enabled) return;
    // Adapters pass label objects made once (a reply is the hot path): their key is cached.
    let labelKey = labelKeys.get(labels);
    if (labelKey === undefined) {
      labelKey = JSON.stringify(labels);
      labelKeys.set(labels, labelKey);
    }
    const key = `${name}${labelKey}`;
    const counter = this.#counters.get(key);
    if (counter) counter.value += by;
    else this.#counters.set(key, { name, labels: { ...labels }, value: by });
  }

  snapshot(): WorkerStats {
    return {
      kinds: [...this.#kinds.values()].map((k) => ({
        ...k,
        outcomes: { ...k.outcomes },
        buckets: [...k.buckets],
      })),
      counters: [...this.#counters.values()].map((c) => ({ ...c, labels: { ...c.labels } })),
    };
  }
}
