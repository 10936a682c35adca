import { durationBuckets, type PortContext, workerStates } from '@handover/core';

/** One sample of a metric, as prom-client's registry renders it. */
export interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  /** A histogram's `_bucket`, `_sum` and `_count` lines. */
  readonly metricName?: string;
}

/** A metric read from the worker at scrape time. */
export interface MetricDefinition {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter' | 'histogram';
  readonly read: (now: number) => readonly Sample[];
}

/** What the worker-level metrics read; the drain start comes from the port's `draining`. */
export interface MetricSources {
  readonly context: PortContext;
  readonly drainStartedAt: () => number | undefined;
  readonly drainReason: () => string | undefined;
}

/**
 * Help texts of the counters the adapters keep (`PortContext.count`). prom-client registers a
 * metric before its first scrape, so only the counters named here are exported: an adapter
 * that adds one adds it here and to docs/metrics.md.
 */
export const adapterCounters: Readonly<Record<string, string>> = {
  handover_nats_answers_total:
    'Request/reply tasks answered, by code (200, 400, 413, 500, 503 the worker stops, 504 the caller gave up).',
  handover_jetstream_settled_total: 'JetStream messages settled, by how (ack, nak, term).',
  handover_registry_write_failures_total: 'Registry entry writes that failed (retried).',
};

/** The metrics of one worker (docs/operations.md lists them). */
export function definitions(s: MetricSources): MetricDefinition[] {
  const { context } = s;
  const kinds = () => context.stats().kinds;
  return [
    {
      name: 'handover_worker_info',
      help: 'The worker: service, id, instance and version (always 1).',
      type: 'gauge',
      read: () => [
        {
          labels: {
            service: context.service,
            id: context.id,
            instance: context.instance,
            version: context.version,
          },
          value: 1,
        },
      ],
    },
    {
      name: 'handover_worker_state',
      help: 'The lifecycle state: 1 for the current one, 0 for the others.',
      type: 'gauge',
      read: () =>
        workerStates.map((state) => ({
          labels: { state },
          value: Number(context.state === state),
        })),
    },
    {
      name: 'handover_worker_ready',
      help: 'Whether the worker takes work now (what /readyz answers).',
      type: 'gauge',
      read: () => [{ labels: {}, value: Number(context.ready) }],
    },
    {
      name: 'handover_tasks_in_flight',
      help: 'Tasks queued or running, plus HTTP requests in flight.',
      type: 'gauge',
      read: () => [{ labels: {}, value: context.inflight }],
    },
    {
      name: 'handover_concurrency',
      help: 'Tasks the worker runs at once.',
      type: 'gauge',
      read: () => [{ labels: {}, value: context.concurrency }],
    },
    {
      name: 'handover_tasks_total',
      help: 'Work finished, by kind (nats, jetstream, http, task) and outcome (ok, error, cut_off at the drain deadline).',
      type: 'counter',
      read: () =>
        kinds().flatMap((k) =>
          Object.entries(k.outcomes).map(([outcome, value]) => ({
            labels: { kind: k.kind, outcome },
            value,
          })),
        ),
    },
    {
      name: 'handover_task_duration_seconds',
      help: 'How long work took, from its arrival (queueing included), by kind.',
      type: 'histogram',
      read: () =>
        kinds().flatMap((k): Sample[] => [
          ...durationBuckets.map((le, i) => ({
            metricName: 'handover_task_duration_seconds_bucket',
            labels: { kind: k.kind, le },
            value: k.buckets[i] ?? 0,
          })),
          {
            metricName: 'handover_task_duration_seconds_bucket',
            labels: { kind: k.kind, le: '+Inf' },
            value: k.count,
          },
          {
            metricName: 'handover_task_duration_seconds_sum',
            labels: { kind: k.kind },
            value: k.sum,
          },
          {
            metricName: 'handover_task_duration_seconds_count',
            labels: { kind: k.kind },
            value: k.count,
          },
        ]),
    },
    {
      name: 'handover_drains_total',
      help: 'Drains begun, by reason (SIGTERM, drain-endpoint, api, ...): 0 or 1 in a process.',
      type: 'counter',
      read: () => {
        const reason = s.drainReason();
        return reason === undefined ? [] : [{ labels: { reason }, value: 1 }];
      },
    },
    {
      name: 'handover_draining_seconds',
      help: 'Time spent draining so far (0 before the drain).',
      type: 'gauge',
      read: (now) => {
        const at = s.drainStartedAt();
        return [{ labels: {}, value: at === undefined ? 0 : (now - at) / 1000 }];
      },
    },
    {
      name: 'handover_component_healthy',
      help: 'Whether a component the worker depends on (nats: its broker connection) is healthy.',
      type: 'gauge',
      read: () =>
        Object.entries(context.health()).map(([component, healthy]) => ({
          labels: { component },
          value: Number(healthy),
        })),
    },
  ];
}

/** The counters the adapters keep, one metric per known name (the others are not exported). */
export function counterDefinitions(context: PortContext): MetricDefinition[] {
  return Object.entries(adapterCounters).map(([name, help]) => ({
    name,
    help,
    type: 'counter' as const,
    read: () =>
      context
        .stats()
        .counters.filter((c) => c.name === name)
        .map((c) => ({ labels: c.labels, value: c.value })),
  }));
}
