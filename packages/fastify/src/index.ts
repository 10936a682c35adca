export {
  type AttachServerOptions,
  closingSignal,
  type DrainEndpointOptions,
  type EndpointOptions,
  type HttpServerPort,
  type ProbePaths,
} from '@handover/http';
export type { HandoverFastifyOptions } from './options.js';
export { handoverFastify } from './plugin.js';
