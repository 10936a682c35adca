// One look at the broker from inside the overlay network: the registry (KV bucket
// handover_<service>) and the job consumer. Prints one JSON line; run by src/nats-load.ts.
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';

const env = process.env;
const service = env.HANDOVER_SERVICE ?? 'orders';
const stream = env.HANDOVER_STREAM ?? `${service}_jobs`;
const consumer = env.HANDOVER_CONSUMER ?? service;
const nc = await connect({ servers: env.NATS_URL, timeout: 10_000 });

let registry = null;
try {
  // bindOnly: looking must not create the bucket.
  const kv = await new Kvm(nc).open(`handover_${service}`, { bindOnly: true });
  registry = [];
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    if (entry?.operation === 'PUT') registry.push({ key, ...entry.json() });
  }
} catch {}

let consumerInfo = null;
try {
  const info = await (await jetstreamManager(nc)).consumers.info(stream, consumer);
  consumerInfo = { numPending: info.num_pending, numAckPending: info.num_ack_pending };
} catch {}

process.stdout.write(`${JSON.stringify({ registry, consumer: consumerInfo })}\n`);
await nc.close();
