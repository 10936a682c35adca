import {
  type DrainNotice,
  type DrainSummary,
  describeError,
  type Logger,
  type Port,
  type PortContext,
} from '@handover/core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Bridges, unservedMs } from './bridge.js';
import { type Codec, jsonCodec } from './codec.js';
import {
  checkServer,
  openConnection,
  resolveServers,
  serverAtLeast,
  sleep,
  within,
} from './connection.js';
import { type Intake, RequestIntake } from './intake.js';
import { JetStreamIntake } from './jetstream-intake.js';
import {
  type ConsumerFacts,
  type ConsumerPlan,
  ensureConsumer,
  type JetStreamSetup,
  jetstreamSetup,
} from './jetstream-setup.js';
import { defaultPrefix, type ServiceNames, serviceNames } from './names.js';
import { defaultPullExpiresMs, type NatsBrokerOptions } from './options.js';
import { validateBrokerOptions } from './options-validate.js';
import { Registry } from './registry.js';
import { ReplicaPolicy } from './replicas.js';
import { ServiceApi } from './service-api.js';
import { watchStatus } from './status.js';
import { invalidOption } from './validate.js';
import { buildEvent, encodeJson, type WorkerEventType } from './wire.js';

/**
 * Bound of each step of a lame-duck move: opening the bridge, pausing intake, then
 * reconnecting.
 */
const moveStepMs = 10_000;
/**
 * A lame-duck move starts after a random delay up to this: the workers of a node do not all
 * reconnect at once, and when a worker cannot open a bridge it pauses its intake for the move
 * (if all paused at once nobody would subscribe to the service's subject: a requester gets
 * "no responders"). Well under nats-server's `lame_duck_grace_period` (10 s by default), after
 * which it closes clients.
 */
const moveSpreadMs = 2000;

/** Labels of `handover_jetstream_settled_total`, made once. */
const settledLabels = {
  ack: { how: 'ack' },
  nak: { how: 'nak' },
  term: { how: 'term' },
} as const;

/** The NATS adapter of a worker; also gives access to its connection once connected. */
export interface NatsBroker extends Port {
  readonly kind: 'broker';
  /** The connection, once `connect()` has succeeded. */
  readonly connection: NatsConnection | undefined;
}

/**
 * The NATS adapter: connects while the worker warms up, then opens task intake, writes the
 * registry entry and publishes `ready`; on drain it announces `draining`, stops intake first,
 * and deregisters once the worker's work is done. Attach it with `worker.use(natsBroker(...))`.
 */
export function natsBroker<In = unknown, Out = unknown, Job = In>(
  options: NatsBrokerOptions<In, Out, Job> = {},
): NatsBroker {
  validateBrokerOptions(options as NatsBrokerOptions);
  return new NatsAdapter(options as NatsBrokerOptions);
}

interface Attached {
  readonly context: PortContext;
  readonly logger: Logger;
  readonly names: ServiceNames;
}

class NatsAdapter implements NatsBroker {
  readonly kind = 'broker' as const;
  readonly name = 'nats';
  readonly #options: NatsBrokerOptions;
  #attached: Attached | undefined;
  #nc: NatsConnection | undefined;
  #registry: Registry | undefined;
  readonly #intakes: Intake[] = [];
  #serviceApi: ServiceApi | undefined;
  #consumerFacts: ConsumerFacts | undefined;
  #consumerPlan: ConsumerPlan | undefined;
  #replicas: ReplicaPolicy | undefined;
  #stopWatchingStatus: (() => void) | undefined;
  /** Moving to another server (lame duck), and what the move waits for. */
  #moving = false;
  #onReconnect: (() => void) | undefined;
  /** Make before break for a move; only on a connection the adapter owns, with a handler. */
  #bridges: Bridges | undefined;

  constructor(options: NatsBrokerOptions) {
    this.#options = options;
  }

  get connection(): NatsConnection | undefined {
    return this.#nc;
  }

  attach(context: PortContext): void {
    if (this.#attached) {
      throw invalidOption(
        'natsBroker()',
        'an adapter already attached',
        'a fresh adapter for each worker (attach each one once)',
      );
    }
    // A bad NATS_URL is a configuration error: say so at `worker.use()`, not at start.
    if (this.#options.nc === undefined) resolveServers(this.#options, context.env);
    this.#attached = {
      context,
      logger: context.logger.child({ adapter: 'nats' }),
      names: serviceNames(context.service, this.#options.prefix ?? defaultPrefix),
    };
  }

  async connect(signal: AbortSignal): Promise<void> {
    const { context, logger, names } = this.#use();
    const name = `handover:${context.service}:${context.id}`;
    const nc =
      this.#options.nc ??
      (await openConnection(this.#options, signal, {
        name,
        logger,
        env: context.env,
        waiting: (detail) => context.setHealth('nats', false, detail),
      }));
    if (this.#options.nc === undefined && this.#options.handler) {
      this.#bridges = new Bridges({
        settings: this.#options,
        env: context.env,
        name,
        logger,
        stopSignal: context.stopSignal,
        intake: (on) => this.#requestIntake(on),
        timeoutMs: moveStepMs,
      });
    }
    context.setHealth('nats', true);
    this.#nc = nc;
    const js = this.#options.jetstream;
    checkServer(nc, (this.#options.registry ?? true) || js !== undefined, logger);
    this.#stopWatchingStatus = watchStatus(nc, logger, {
      disconnected: () => context.setHealth('nats', false, 'disconnected'),
      reconnected: () => {
        this.#onReconnect?.();
        context.setHealth('nats', true);
        // The entry may have expired while the connection was away.
        if (this.#registry?.written) void this.#writeEntry();
      },
      // The server is going away (a rolling upgrade): move to another one now, while this one
      // still routes, rather than when it closes the connection. Only a connection we own.
      lameDuck: this.#options.nc === undefined ? () => void this.#moveAway(nc) : undefined,
    });
    const clustered = Boolean(nc.info?.cluster);
    this.#replicas = new ReplicaPolicy(nc.info, logger);
    // A fresh cluster answers slowly while its leaders are elected, and another worker may be
    // creating the same stream: transient answers are retried within the warm-up budget.
    const setup = this.#setup(signal);
    if (this.#options.registry ?? true) {
      this.#registry = new Registry({
        nc,
        names,
        context,
        logger,
        endpoints: () => this.#endpoints(),
        replicas: this.#replicas,
        clustered,
      });
      await this.#registry.open(setup);
    }
    if (js) {
      this.#consumerPlan = {
        stream: js.stream,
        consumer: js.consumer ?? context.service,
        subjects: js.subjects ?? [names.jobs],
        bind: js.bind ?? false,
        ackWaitMs: js.ackWaitMs ?? 30_000,
        maxDeliver: js.maxDeliver ?? 5,
      };
      this.#consumerFacts = await ensureConsumer(
        await setup.retry('JetStream', () => jetstreamManager(nc)),
        this.#consumerPlan,
        setup,
      );
    }
  }

  /**
   * Leaves a server in lame duck mode without losing a task, make before break: a bridge (a
   * second connection with its own request intake) subscribes on another server first; then
   * intake is paused (the server stops routing here, what it delivered is answered on this
   * connection), the connection moves to another server and intake resumes there; then the
   * bridge answers what it was given and closes. Without a bridge (no other server reachable)
   * other workers take the work meanwhile: each worker starts its move after a random delay (up
   * to {@link moveSpreadMs}), so that the workers of one node do not all pause at once.
   */
  async #moveAway(nc: NatsConnection): Promise<void> {
    const { context, logger } = this.#use();
    if (this.#moving || context.stopSignal.aborted) return;
    this.#moving = true;
    const server = nc.getServer();
    await sleep(Math.random() * moveSpreadMs, context.stopSignal);
    // The server may have closed the connection meanwhile: nats.js moved it already.
    if (context.stopSignal.aborted || nc.getServer() !== server || nc.isClosed()) {
      this.#moving = false;
      return;
    }
    // Not before `open()`: a bridge must not take tasks while the worker warms up.
    const requests = this.#intakes.some((intake) => intake instanceof RequestIntake);
    const bridge = requests ? await this.#bridges?.open(nc) : undefined;
    const started = Date.now();
    const moved = await this.#reconnectElsewhere(nc);
    if (!context.stopSignal.aborted) await this.#resume(nc);
    const resumed = Date.now();
    this.#moving = false;
    const facts = {
      server: nc.getServer(),
      pausedMs: resumed - started,
      ...(requests
        ? { bridged: bridge !== undefined, unservedMs: unservedMs(bridge, started, resumed) }
        : {}),
    };
    if (moved) logger.info(facts, 'moved to another NATS server');
    else logger.warn(facts, 'did not move to another NATS server: intake resumed here');
    if (bridge) await this.#bridges?.retire(bridge);
  }

  /** Pauses intake, then reconnects `nc` elsewhere: whether it did within the bound. */
  async #reconnectElsewhere(nc: NatsConnection): Promise<boolean> {
    const { logger } = this.#use();
    try {
      // Tasks still running after the bound answer on the new connection (replies are routed
      // across the cluster): the pause only spares them a reply lost with the old socket.
      const paused = await within(
        Promise.all(this.#intakes.map((intake) => intake.pause())),
        moveStepMs,
      );
      if (!paused) logger.warn({ afterMs: moveStepMs }, 'tasks still running: moving anyway');
      await nc.flush();
      const reconnected = new Promise<void>((resolve) => {
        this.#onReconnect = resolve;
      });
      nc.reconnect();
      return await within(reconnected, moveStepMs);
    } catch (error) {
      logger.warn({ error: describeError(error) }, 'could not move to another NATS server');
      return false;
    } finally {
      this.#onReconnect = undefined;
    }
  }

  /** Intake again on `nc`, flushed: the server has the subscriptions before a bridge goes. */
  async #resume(nc: NatsConnection): Promise<void> {
    try {
      for (const intake of this.#intakes) intake.resume();
      await within(nc.flush(), moveStepMs);
    } catch (error) {
      this.#use().logger.warn({ error: describeError(error) }, 'could not resume task intake');
    }
  }

  /** Transient JetStream answers retried until `warmupTimeoutMs` from now, or `signal`. */
  #setup(signal?: AbortSignal): JetStreamSetup {
    const { context, logger } = this.#use();
    const replicas = this.#replicas ?? new ReplicaPolicy(this.#nc?.info, logger);
    const deadline = Date.now() + context.timing.warmupTimeoutMs;
    return jetstreamSetup(replicas, logger, { deadline, signal });
  }

  /**
   * Opens intake, then announces: entry written (retried within `warmupTimeoutMs`), then
   * `ready`. After every step that waits, a stop (`signal`) ends it: nothing more is opened,
   * written or announced, so no `ready` can follow `draining`.
   */
  async open(signal: AbortSignal): Promise<void> {
    const { context, logger, names } = this.#use();
    const nc = this.#connected();
    const codec = (this.#options.codec ?? jsonCodec) as Codec<unknown, unknown>;
    const { handler, jetstream: js } = this.#options;
    if (handler && !signal.aborted) {
      const intake = this.#requestIntake(nc);
      intake.open();
      this.#intakes.push(intake);
    }
    const plan = this.#consumerPlan;
    if (js && plan && this.#consumerFacts && !signal.aborted) {
      const intake = new JetStreamIntake({
        nc,
        slots: context,
        logger,
        apiPrefix: jetstream(nc).apiPrefix,
        stream: plan.stream,
        consumer: plan.consumer,
        facts: this.#consumerFacts,
        handler: js.handler,
        codec,
        pullExpiresMs: js.pullExpiresMs ?? defaultPullExpiresMs,
        nakDelayMs: js.nakDelayMs ?? { base: 1000, max: 30_000 },
        termReasons: serverAtLeast(nc, 2, 11),
        counted: (how) => context.count('handover_jetstream_settled_total', settledLabels[how]),
        recover: async () => {
          await ensureConsumer(await jetstreamManager(nc), plan, this.#setup(context.stopSignal));
        },
      });
      intake.open();
      this.#intakes.push(intake);
    }
    if (signal.aborted) return;
    this.#serviceApi = new ServiceApi({
      nc,
      names,
      context,
      logger,
      description: this.#options.description ?? `Handover worker of ${context.service}`,
      endpoints: () => this.#intakes.filter((i) => i instanceof RequestIntake).map((i) => i.stats),
    });
    this.#serviceApi.open();
    // One round trip: the server has taken the subscriptions before anything says ready (with
    // no registry there is no other round trip, and a request sent at once met no responders).
    await nc.flush();
    if (signal.aborted) return;
    await this.#registry?.announce(signal);
    if (signal.aborted) return;
    this.#publish('ready');
    logger.info({ endpoints: this.#endpoints() }, 'registered');
  }

  /** The request intake on `nc`: the worker's own, or a bridge's during a move. */
  #requestIntake(nc: NatsConnection): RequestIntake {
    const { context, logger, names } = this.#use();
    const handler = this.#options.handler;
    if (!handler) throw new Error('the NATS adapter has no handler');
    return new RequestIntake({
      nc,
      names,
      context,
      logger,
      handler,
      codec: (this.#options.codec ?? jsonCodec) as Codec<unknown, unknown>,
      maxPayloadBytes: this.#options.maxPayloadBytes ?? nc.info?.max_payload ?? 1024 * 1024,
    });
  }

  async heartbeat(): Promise<void> {
    await this.#writeEntry();
  }

  draining(notice: DrainNotice): void {
    this.#publish(notice.failed ? 'failed' : 'draining', { reason: notice.reason });
    // Sent now, acknowledged later: stopping intake must not wait for JetStream (a slow KV
    // ack would keep tasks coming). The registry's queue still orders it before the delete.
    void this.#writeEntry();
  }

  async stopIntake(): Promise<void> {
    await Promise.all([
      ...this.#intakes.map((intake) => intake.close()),
      this.#bridges?.stopIntake(),
      this.#serviceApi?.close(),
    ]);
    this.#attached?.logger.info({ state: this.#attached.context.state }, 'task intake closed');
  }

  async deregister(summary: DrainSummary): Promise<void> {
    try {
      await this.#registry?.remove();
      this.#use().logger.info(
        { drainMs: summary.drainMs, abandoned: summary.abandoned },
        'deregistered',
      );
    } finally {
      this.#publish('stopped', { drainMs: summary.drainMs, abandoned: summary.abandoned });
    }
  }

  async close(): Promise<void> {
    this.#stopWatchingStatus?.();
    await this.#bridges?.close();
    const nc = this.#nc;
    if (!nc || nc.isClosed()) return;
    if (this.#options.nc) await nc.flush();
    else await nc.drain();
  }

  /** The entry as the worker is now: `draining` from the moment the stop began. */
  #writeEntry(): Promise<void> {
    const state = this.#use().context.stopSignal.aborted ? 'draining' : 'ready';
    return this.#registry?.write(state).catch(() => {}) ?? Promise.resolve();
  }

  #endpoints(): Record<string, string> {
    const jobs = this.#consumerFacts?.subject;
    return {
      ...(this.#options.handler ? { tasks: this.#use().names.tasks } : {}),
      ...(jobs === undefined ? {} : { jobs }),
    };
  }

  /** Publishes a lifecycle event; after deregistration only `stopped` goes out. */
  #publish(
    type: WorkerEventType,
    details: { reason?: string; drainMs?: number; abandoned?: number } = {},
  ): void {
    const { context, names, logger } = this.#use();
    const nc = this.#nc;
    if (!nc || nc.isClosed() || (context.deregistered && type !== 'stopped')) return;
    try {
      nc.publish(
        names.events(context.id),
        encodeJson(buildEvent(context, type, Date.now(), details)),
      );
    } catch (error) {
      logger.warn({ event: type, error: describeError(error) }, 'could not publish the event');
    }
  }

  #use(): Attached {
    if (!this.#attached) throw new Error('the NATS adapter is not attached to a worker');
    return this.#attached;
  }

  #connected(): NatsConnection {
    if (!this.#nc) throw new Error('the NATS adapter is not connected');
    return this.#nc;
  }
}
