export { findBinary } from './binaries.js';
export { selfSignedCert } from './certs.js';
export {
  type Child,
  type ChildExit,
  type LogLine,
  reapChildren,
  type SpawnOptions,
  spawnNode,
} from './child.js';
export { findHaproxy, type Haproxy, type HaproxyOptions, startHaproxy } from './haproxy.js';
export {
  type HttpOutcome,
  type HttpRequestOptions,
  type HttpResult,
  httpRequest,
  tryHttpRequest,
} from './http-client.js';
export {
  describeHttpConformance,
  describeHttpLbConformance,
  type HttpConformanceTarget,
} from './http-conformance.js';
export { type Load, type LoadOptions, type LoadReport, startLoad } from './http-load.js';
export { expectBuilt, type HttpService, startHttpService } from './http-service.js';
export {
  type LbLoad,
  type LbLoadOptions,
  type LbLoadReport,
  rateBetween,
  startLbLoad,
} from './lb-load.js';
export {
  bareCloseFixture,
  describeRoll,
  type LbRollOptions,
  type LbRollResult,
  type LbSetup,
  lbSetups,
  rollBehindLb,
} from './lb-roll.js';
export { type CapturingLogger, captureLogger, type LogEntry, silentLogger } from './logger.js';
export {
  type NatsCluster,
  type NatsClusterNode,
  type NatsClusterOptions,
  type NodeRef,
  startNatsCluster,
} from './nats-cluster.js';
export type { Asset } from './nats-monitor.js';
export {
  findNatsServer,
  type NatsServer,
  type NatsServerOptions,
  startNatsServer,
} from './nats-server.js';
export { findNginx, type Nginx, type NginxOptions, startNginx } from './nginx.js';
export { getFreePort } from './ports.js';
export { getStablePort } from './stable-port.js';
export { startTcpRelay, type TcpRelay } from './tcp-relay.js';
export { holdTask, type WaitOptions, waitFor, within } from './wait.js';
