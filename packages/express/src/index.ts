export {
  type AttachServerOptions,
  closingSignal,
  type DrainEndpointOptions,
  type EndpointOptions,
  type HttpServerPort,
  type ProbePaths,
} from '@handover/http';
export { attachExpress } from './attach.js';
export { handoverMiddleware } from './middleware.js';
