export { type NatsBroker, natsBroker } from './adapter.js';
export {
  createTaskClient,
  type PublishOptions,
  type RequestOptions,
  type TaskClient,
  type TaskClientOptions,
  TaskRequestError,
} from './client.js';
export { type Codec, jsonCodec, rawCodec } from './codec.js';
export { type ConnectionSettings, redactServer } from './connection.js';
export { NatsAdapterError, type NatsErrorCode, natsErrorCodes, TaskError } from './errors.js';
export type { TaskContext, TaskHandler } from './intake.js';
export type { JobContext, JobHandler } from './jetstream-job.js';
export { defaultPrefix, headerNames, type ServiceNames, schemas, serviceNames } from './names.js';
export type { JetStreamIntakeOptions, NatsBrokerOptions } from './options.js';
export type { EndpointStatsJson } from './stats.js';
export {
  type WatchWorkersOptions,
  type WorkerChange,
  type WorkerWatch,
  watchWorkers,
} from './watch.js';
export {
  isStale,
  parseEntry,
  parseEvent,
  type WorkerEntry,
  type WorkerEvent,
  type WorkerEventType,
} from './wire.js';
