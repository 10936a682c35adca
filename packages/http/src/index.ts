export type { HttpAnswer } from './answer.js';
export { attachServer } from './attach.js';
export type {
  DrainEndpointOptions,
  EndpointOptions,
  MetricsSource,
  ProbeName,
  ProbePaths,
} from './endpoint-options.js';
export {
  createEndpoints,
  createProbeHandler,
  type Endpoints,
  type ProbeHandler,
} from './endpoints.js';
export { HandoverHttpError, type HttpErrorCode, httpErrorCodes } from './errors.js';
export { type ProbeServer, type ProbeServerOptions, startProbeServer } from './probe-server.js';
export { closingSignal } from './request-tracking.js';
export { type ServeOptions, serve } from './serve.js';
export type { AttachServerOptions } from './server-options.js';
export type { HttpServerPort } from './server-port.js';
