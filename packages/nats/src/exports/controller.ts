// `@handover/nats/controller`: what a controller uses to find workers and send them work.
export {
  createTaskClient,
  type PublishOptions,
  type RequestOptions,
  type TaskClient,
  type TaskClientOptions,
  TaskRequestError,
} from '../client.js';
// How every NATS tool takes its servers (a comma list, `NATS_URL`) and credentials in URLs,
// for tools that open their own connection (the `handover` CLI).
export {
  type ConnectionSettings,
  credentialsFromUrls,
  redactServer,
  resolveServers,
} from '../connection.js';
export {
  type WatchWorkersOptions,
  type WorkerChange,
  type WorkerWatch,
  watchWorkers,
} from '../watch.js';
export type { WorkerEntry } from '../wire.js';
