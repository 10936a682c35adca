// The worker side: the adapter a service attaches. Controllers import
// `@handover/nats/controller`; the wire format is in `@handover/nats/wire`.
export { type NatsBroker, natsBroker } from './adapter.js';
export { type Codec, jsonCodec, rawCodec } from './codec.js';
export { type ConnectionSettings, redactServer } from './connection.js';
export { NatsAdapterError, type NatsErrorCode, natsErrorCodes, TaskError } from './errors.js';
export type { TaskContext, TaskHandler } from './intake.js';
export type { JobContext, JobHandler } from './jetstream-job.js';
export type { JetStreamIntakeOptions, NatsBrokerOptions } from './options.js';
