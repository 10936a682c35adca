export {
  type AttachServerOptions,
  attachServer,
  closingSignal,
  type DrainEndpointOptions,
  type EndpointOptions,
  type HttpServerPort,
  type ProbePaths,
  type ServeOptions,
  serve,
} from '@handover/http';
export { handoverMiddleware } from './middleware.js';
