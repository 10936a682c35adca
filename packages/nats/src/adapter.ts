import {
  type BrokerPort,
  type DrainNotice,
  type DrainSummary,
  describeError,
  type Logger,
  type Worker,
} from '@handover/core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Codec, jsonCodec } from './codec.js';
import { checkServer, openConnection, serverAtLeast } from './connection.js';
import { type Intake, RequestIntake } from './intake.js';
import { JetStreamIntake } from './jetstream-intake.js';
import { type ConsumerFacts, type ConsumerPlan, ensureConsumer } from './jetstream-setup.js';
import { defaultPrefix, type ServiceNames, serviceNames } from './names.js';
import { defaultPullExpiresMs, type NatsBrokerOptions } from './options.js';
import { validateBrokerOptions } from './options-validate.js';
import { Registry } from './registry.js';
import { ServiceApi } from './service-api.js';
import { invalidOption } from './validate.js';
import { buildEvent, encodeJson, type WorkerEventType } from './wire.js';

/** The NATS adapter of a worker; also gives access to its connection once connected. */
export interface NatsBroker extends BrokerPort {
  /** The connection, once `connect()` has succeeded. */
  readonly connection: NatsConnection | undefined;
}

/**
 * The NATS adapter: connects while the worker warms up, then opens task intake, writes the
 * registry entry and publishes `ready`; on drain it announces `draining`, stops intake first,
 * and deregisters once the worker's work is done. Attach it with `worker.use(natsBroker(...))`.
 */
export function natsBroker<In = unknown, Out = unknown>(
  options: NatsBrokerOptions<In, Out> = {},
): NatsBroker {
  validateBrokerOptions(options as NatsBrokerOptions);
  return new NatsAdapter(options as NatsBrokerOptions);
}

class NatsAdapter implements NatsBroker {
  readonly kind = 'broker' as const;
  readonly name = 'nats';
  readonly #options: NatsBrokerOptions;
  #worker: Worker | undefined;
  #logger: Logger | undefined;
  #names: ServiceNames | undefined;
  #nc: NatsConnection | undefined;
  #registry: Registry | undefined;
  #intakes: Intake[] = [];
  #serviceApi: ServiceApi | undefined;
  #entryState: 'ready' | 'draining' = 'ready';
  #consumerFacts: ConsumerFacts | undefined;
  #consumerPlan: ConsumerPlan | undefined;
  #announced = false;
  #deregistered = false;

  constructor(options: NatsBrokerOptions) {
    this.#options = options;
  }

  get connection(): NatsConnection | undefined {
    return this.#nc;
  }

  attach(worker: Worker): void {
    if (this.#worker) {
      throw invalidOption(
        'natsBroker()',
        'an adapter already attached',
        'a fresh adapter for each worker (attach each one once)',
      );
    }
    this.#worker = worker;
    this.#logger = worker.logger.child({ adapter: 'nats' });
    this.#names = serviceNames(worker.service, this.#options.prefix ?? defaultPrefix);
  }

  async connect(signal: AbortSignal): Promise<void> {
    const { worker, logger, names } = this.#attached();
    const nc =
      this.#options.nc ??
      (await openConnection(
        this.#options,
        `handover:${worker.service}:${worker.id}`,
        signal,
        logger,
      ));
    this.#nc = nc;
    const js = this.#options.jetstream;
    checkServer(nc, (this.#options.registry ?? true) || js !== undefined, logger);
    this.#watchStatus(nc);
    if (this.#options.registry ?? true) {
      this.#registry = new Registry({
        nc,
        names,
        worker,
        logger,
        endpoints: () => this.#endpoints(),
      });
      await this.#registry.open();
    }
    if (js) {
      this.#consumerPlan = {
        stream: js.stream,
        consumer: js.consumer ?? worker.service,
        subjects: js.subjects ?? [names.jobs],
        bind: js.bind ?? false,
        ackWaitMs: js.ackWaitMs ?? 30_000,
        maxDeliver: js.maxDeliver ?? 5,
      };
      this.#consumerFacts = await ensureConsumer(await jetstreamManager(nc), this.#consumerPlan);
    }
  }

  async register(): Promise<void> {
    const { worker, logger, names } = this.#attached();
    const nc = this.#connected();
    const handler = this.#options.handler;
    if (handler) {
      this.#intakes.push(
        new RequestIntake({
          nc,
          names,
          worker,
          logger,
          handler,
          codec: (this.#options.codec ?? jsonCodec) as Codec<unknown, unknown>,
          maxPayloadBytes: this.#options.maxPayloadBytes ?? nc.info?.max_payload ?? 1024 * 1024,
        }),
      );
    }
    const js = this.#options.jetstream;
    if (js && this.#consumerFacts) {
      this.#intakes.push(
        new JetStreamIntake({
          nc,
          slots: worker,
          logger,
          apiPrefix: jetstream(nc).apiPrefix,
          stream: js.stream,
          consumer: js.consumer ?? worker.service,
          facts: this.#consumerFacts,
          handler: js.handler,
          codec: (this.#options.codec ?? jsonCodec) as Codec<unknown, unknown>,
          pullExpiresMs: js.pullExpiresMs ?? defaultPullExpiresMs,
          nakDelayMs: js.nakDelayMs ?? { base: 1000, max: 30_000 },
          termReasons: serverAtLeast(nc, 2, 11),
          recover: async () => {
            await ensureConsumer(await jetstreamManager(nc), this.#consumerPlan as ConsumerPlan);
          },
        }),
      );
    }
    for (const intake of this.#intakes) await intake.open();
    this.#serviceApi = new ServiceApi({
      nc,
      names,
      worker,
      logger,
      description: this.#options.description ?? `Handover worker of ${worker.service}`,
      endpoints: () => this.#intakes.filter((i) => i instanceof RequestIntake).map((i) => i.stats),
    });
    this.#serviceApi.open();
    await this.#registry?.write('ready').catch(() => {});
    this.#announced = true;
    this.#publish('ready');
  }

  async heartbeat(): Promise<void> {
    await this.#registry?.write(this.#entryState);
  }

  async markDraining(notice: DrainNotice): Promise<void> {
    if (this.#deregistered) return;
    this.#entryState = 'draining';
    this.#publish(notice.failed ? 'failed' : 'draining', { reason: notice.reason });
    // Sent now, acknowledged later: stopping intake must not wait for JetStream (a slow KV
    // ack would keep tasks coming). The registry's queue still orders it before the delete.
    this.#registry?.write('draining').catch(() => {});
  }

  async stopIntake(): Promise<void> {
    await Promise.all([
      ...this.#intakes.map((intake) => intake.close()),
      this.#serviceApi?.close(),
    ]);
    this.#logger?.info({ state: this.#worker?.state }, 'task intake closed');
  }

  async deregister(summary: DrainSummary): Promise<void> {
    this.#announced = false;
    this.#deregistered = true;
    try {
      await this.#registry?.remove();
    } finally {
      this.#publish('stopped', { drainMs: summary.drainMs, abandoned: summary.abandoned });
    }
  }

  async close(): Promise<void> {
    const nc = this.#nc;
    if (!nc || nc.isClosed()) return;
    if (this.#options.nc) await nc.flush();
    else await nc.drain();
  }

  #endpoints(): Record<string, string> {
    const { names } = this.#attached();
    const jobs = this.#consumerFacts?.subject;
    return {
      ...(this.#options.handler ? { tasks: names.tasks } : {}),
      ...(jobs === undefined ? {} : { jobs }),
    };
  }

  #publish(
    type: WorkerEventType,
    details: { reason?: string; drainMs?: number; abandoned?: number } = {},
  ): void {
    const { worker, names, logger } = this.#attached();
    const nc = this.#nc;
    if (!nc || nc.isClosed()) return;
    try {
      nc.publish(
        names.events(worker.id),
        encodeJson(buildEvent(worker, type, Date.now(), details)),
      );
    } catch (error) {
      logger.warn({ event: type, error: describeError(error) }, 'could not publish the event');
    }
  }

  #watchStatus(nc: NatsConnection): void {
    const { worker, logger } = this.#attached();
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          worker.setHealth('nats', false, 'disconnected');
          logger.warn({ server: status.server }, 'disconnected from NATS; reconnecting');
        } else if (status.type === 'reconnect') {
          worker.setHealth('nats', true);
          logger.info({ server: status.server }, 'reconnected to NATS');
          if (this.#announced) this.#registry?.write(this.#entryState).catch(() => {});
        } else if (status.type === 'error') {
          logger.warn({ error: describeError(status.error) }, 'NATS connection error');
        }
      }
    })().catch((error: unknown) =>
      logger.warn({ error: describeError(error) }, 'NATS status watch ended'),
    );
  }

  #attached(): { worker: Worker; logger: Logger; names: ServiceNames } {
    if (!this.#worker || !this.#logger || !this.#names)
      throw new Error('the NATS adapter is not attached to a worker');
    return { worker: this.#worker, logger: this.#logger, names: this.#names };
  }

  #connected(): NatsConnection {
    if (!this.#nc) throw new Error('the NATS adapter is not connected');
    return this.#nc;
  }
}
