import { HandoverError, type Port, type PortContext } from '@handover/core';
import { Registry } from 'prom-client';
import { counterDefinitions, definitions, type MetricDefinition } from './collect.js';

/** Options of {@link handoverMetrics}. */
export interface HandoverMetricsOptions {
  /**
   * The prom-client registry to register the worker's metrics into (your own, with your
   * metrics, or `prom-client`'s global `register`).
   * @default a new Registry holding only these metrics
   */
  readonly registry?: Registry | undefined;
}

/**
 * The metrics of a worker as a port: attach it with `worker.use()` (before `start()`), then
 * serve {@link HandoverMetrics.render} at `/metrics` (the probe server does, given it as its
 * `metrics` option) or let your own registry serve them.
 */
export interface HandoverMetrics extends Port {
  readonly kind: 'extension';
  /** The registry holding the metrics. */
  readonly registry: Registry;
  /** The Content-Type of {@link render}: Prometheus text format. */
  readonly contentType: string;
  /** The registry's metrics in the Prometheus text format, read from the worker now. */
  render(): Promise<string>;
}

/** A prom-client metric whose values are read at scrape time. */
function collector(definition: MetricDefinition) {
  const { name, help, type } = definition;
  return {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    get: async () => ({ name, help, type, aggregator: 'sum', values: definition.read(Date.now()) }),
    reset: () => {},
  };
}

class MetricsPort implements HandoverMetrics {
  readonly kind = 'extension' as const;
  readonly name = 'metrics';
  readonly registry: Registry;
  #context: PortContext | undefined;

  constructor(options: HandoverMetricsOptions) {
    this.registry = options.registry ?? new Registry();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  attach(context: PortContext): void {
    this.#context = context;
    context.enableStats();
    const sources = {
      context,
      drainStartedAt: () => context.stop?.at,
      drainReason: () => context.stop?.reason,
    };
    for (const definition of [...definitions(sources), ...counterDefinitions(context)]) {
      this.registry.registerMetric(
        collector(definition) as unknown as Parameters<Registry['registerMetric']>[0],
      );
    }
  }

  render(): Promise<string> {
    if (this.#context === undefined) {
      return Promise.reject(
        new HandoverError(
          'HANDOVER_E_INVALID_STATE',
          'the metrics are not attached to a worker: call worker.use() first',
        ),
      );
    }
    return this.registry.metrics();
  }
}

/**
 * Prometheus metrics of a worker (names and labels in docs/operations.md): its lifecycle state
 * and readiness, work in flight, work finished by kind and outcome with durations, drains, the
 * health of its broker connection, and the adapters' counters (NATS answers by code, JetStream
 * settles, registry write failures). Core gains no dependency: the numbers come from the
 * worker through the port's context, read at scrape time.
 *
 * A stop's final figures (drain time, abandoned work) are in the `stopped` event and the log,
 * since nothing scrapes a process that is exiting.
 *
 * @example
 * ```ts
 * const metrics = handoverMetrics();
 * worker.use(metrics);
 * await startProbeServer(worker, { port: 9000, metrics }); // GET /metrics
 * ```
 */
export function handoverMetrics(options: HandoverMetricsOptions = {}): HandoverMetrics {
  return new MetricsPort(options);
}
