// NATS load and probes from containers on the service's network (containers/nats-load.mjs,
// containers/nats-inspect.mjs): the service VIP and the overlay addresses are not reachable from
// this host, and a client inside the network sees what the workers' real clients would.
import { containerScript, logs, runOnce, startContainer, stopContainer } from './containers.js';
import { until } from './until.js';

/** Where the broker is and what to send. */
export interface NatsLoadOptions {
  readonly image: string;
  readonly network: string;
  readonly natsUrl: string;
  readonly service: string;
  /** Plain requests a second (no retry). */
  readonly rate: number;
  /** JetStream jobs a second (each publish waits for the stream's ack). */
  readonly jobRate: number;
  /** A request's timeout. @default 5000 */
  readonly timeoutMs?: number;
  /** How long to wait for every published job's ack once the load stops. @default 45000 */
  readonly ackBoundMs?: number;
}

/** A worker lifecycle event as the load container received it. */
export interface WorkerEvent {
  readonly type: 'ready' | 'draining' | 'stopped' | 'failed';
  readonly id: string;
  readonly version: string;
  readonly at: string;
  readonly receivedAt: number;
  readonly reason?: string;
  readonly drainMs?: number;
  readonly abandoned?: number;
}

/** What containers/nats-load.mjs prints when it stops. */
export interface NatsLoadSummary {
  readonly t0: number;
  readonly sendingMs: number;
  readonly options: { rate: number; jobRate: number; timeoutMs: number };
  readonly requests: {
    sent: number;
    ok: number;
    failed: number;
    errors: Record<string, number>;
    versions: Record<string, number>;
    workers: Record<string, number>;
    failures: { n: number; sentAt: number; doneAt: number; error: string }[];
  };
  readonly jobs: {
    sent: number;
    published: number;
    publishFailed: number;
    errors: Record<string, number>;
    acked: number;
    unacked: number;
    unackedSample: number[];
    ackedTwice: number;
    redelivered: number;
    naks: number;
    ackWaitMs: number;
  };
  readonly consumer: {
    numPending?: number;
    numAckPending?: number;
    numRedelivered?: number;
    ackWaitMs?: number;
    error?: string;
  } | null;
  readonly events: WorkerEvent[];
  /** Answers per second since t0: ok, failed, and which versions answered. */
  readonly seconds: { ok: number; failed: number; versions: Record<string, number> }[];
}

/** A running load container. */
export interface NatsLoad {
  readonly id: string;
  /** Stops sending, waits for answers and acks; the container's summary. */
  stop(): Promise<NatsLoadSummary>;
}

const env = (o: Pick<NatsLoadOptions, 'natsUrl' | 'service'>) => ({
  NATS_URL: o.natsUrl,
  HANDOVER_SERVICE: o.service,
});

/** Starts the load; resolves once it sends (connected, subscribed to acks and events). */
export async function startNatsLoad(options: NatsLoadOptions): Promise<NatsLoad> {
  const id = await startContainer({
    image: options.image,
    network: options.network,
    command: ['node', containerScript('nats-load.mjs')],
    env: {
      ...env(options),
      RATE: String(options.rate),
      JOB_RATE: String(options.jobRate),
      TIMEOUT_MS: String(options.timeoutMs ?? 5000),
      ACK_BOUND_MS: String(options.ackBoundMs ?? 45_000),
    },
  });
  await until(async () => (await logs(id)).stderr.includes('"loading":true'), {
    timeoutMs: 60_000,
    what: 'the load container to connect and start sending',
  });
  return {
    id,
    async stop() {
      const { exitCode, stdout, stderr } = await stopContainer(id, {
        timeoutMs: (options.ackBoundMs ?? 45_000) + 60_000,
      });
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        return JSON.parse(line) as NatsLoadSummary;
      } catch {
        throw new Error(
          `the load container exited ${exitCode} without a summary:\n${stdout}\n${stderr}`,
        );
      }
    },
  };
}

/** A worker's registry entry (PROTOCOL.md, "Registry"). */
export interface RegistryEntry {
  readonly key: string;
  readonly id: string;
  readonly hostname: string;
  readonly addresses: readonly string[];
  readonly version: string;
  readonly state: 'ready' | 'draining';
  readonly instance: string;
}

/** The registry (null when the bucket does not exist yet) and the job consumer's backlog. */
export interface NatsSnapshot {
  readonly registry: RegistryEntry[] | null;
  readonly consumer: { numPending: number; numAckPending: number } | null;
}

/** One look at the registry and the consumer, from a container on the network. */
export async function inspectNats(
  options: Pick<NatsLoadOptions, 'image' | 'network' | 'natsUrl' | 'service'>,
): Promise<NatsSnapshot> {
  const out = await runOnce({
    image: options.image,
    network: options.network,
    command: ['node', containerScript('nats-inspect.mjs')],
    env: env(options),
  });
  return JSON.parse(out.trim().split('\n').pop() ?? 'null') as NatsSnapshot;
}
