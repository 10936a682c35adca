// `@handover/nats/wire`: the wire format of docs/protocol.md, for readers in any role.
export { defaultPrefix, headerNames, type ServiceNames, schemas, serviceNames } from '../names.js';
export type { EndpointStatsJson } from '../stats.js';
export {
  isStale,
  parseEntry,
  parseEvent,
  type WorkerEntry,
  type WorkerEvent,
  type WorkerEventType,
} from '../wire.js';
