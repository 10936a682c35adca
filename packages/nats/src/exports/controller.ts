// `@handover/nats/controller`: what a controller uses to find workers and send them work.
export {
  createTaskClient,
  type PublishOptions,
  type RequestOptions,
  type TaskClient,
  type TaskClientOptions,
  TaskRequestError,
} from '../client.js';
export {
  type WatchWorkersOptions,
  type WorkerChange,
  type WorkerWatch,
  watchWorkers,
} from '../watch.js';
export type { WorkerEntry } from '../wire.js';
