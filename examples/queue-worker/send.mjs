// Sends COUNT tasks (argument, default 5) to handover.<service>.tasks and prints each reply;
// with --jobs, publishes them to handover.<service>.jobs and prints each stream ack.
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const count = Number(process.argv[2] ?? 5);
const jobs = process.argv.includes('--jobs');
const service = process.env.HANDOVER_SERVICE ?? 'demo';
const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
for (let i = 1; i <= count; i++) {
  const body = JSON.stringify({ task: i });
  if (jobs) {
    const ack = await jetstream(nc).publish(`handover.${service}.jobs`, body);
    console.log(JSON.stringify({ task: i, stream: ack.stream, seq: ack.seq }));
    continue;
  }
  const reply = await nc.request(`handover.${service}.tasks`, body, { timeout: 10_000 });
  const error = reply.headers?.get('Nats-Service-Error-Code');
  console.log(
    error
      ? `task ${i}: error ${error} ${reply.headers?.get('Nats-Service-Error')}`
      : reply.string(),
  );
}
await nc.close();
