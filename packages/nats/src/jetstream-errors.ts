import { JetStreamApiError } from '@nats-io/jetstream';
import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';

/**
 * JetStream API error codes (`err_code`) this package acts on, as nats-server 2.9.10 sends them
 * (`server/errors.json`).
 */
export const jsErrorCodes = {
  /** 503 "JetStream system temporarily unavailable": no meta leader (yet). */
  clusterNotAvailable: 10008,
  /** 500 "JetStream cluster can not handle request". */
  clusterNotLeader: 10009,
  /** 503 "incomplete results". */
  clusterIncomplete: 10004,
  /** 400 "no suitable peers for placement[, peer offline, ...]". */
  noSuitablePeers: 10005,
  /** 503 "insufficient resources". */
  insufficientResources: 10023,
  /** 500 "replicas > 1 not supported in non-clustered mode". */
  replicasNotSupported: 10074,
  /** 400 "stream name already in use with a different configuration". */
  streamNameExists: 10058,
  /** 400 "consumer name already in use". */
  consumerNameExists: 10013,
} as const;

/** Where an error came from: a `$JS.API` request, or a publish to a stream's subject. */
export type JetStreamOperation = 'api' | 'publish';

function hasCause(error: unknown, match: (cause: unknown) => boolean): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (match(e)) return true;
    e = e.cause;
  }
  return false;
}

/**
 * nats.js 3.4 throws `JetStreamNotEnabled` ("jetstream is not enabled") for any 503 no
 * responders, but does not export the class from `@nats-io/jetstream`: matched by name.
 */
export const isJetStreamNotEnabled = (error: unknown): boolean =>
  error instanceof Error && error.name === 'JetStreamNotEnabled';

const isTimeout = (error: unknown): boolean => hasCause(error, (e) => e instanceof TimeoutError);

const isNoResponders = (error: unknown): boolean =>
  hasCause(
    error,
    (e) => e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders()),
  );

/**
 * Why a JetStream call may succeed if made again shortly, or `undefined` when it will not
 * (a configuration error, a real conflict). Measured on a 3-node nats-server 2.9.10 cluster:
 *
 * - timeouts: a `STREAM.INFO` while another client creates the stream (only the stream leader
 *   answers, and there is none yet), a request in flight when the connection dropped, a create
 *   placed on a node that just died;
 * - no responders: a publish (or a KV write) while the stream's leader is being elected; nats.js
 *   reports it as `JetStreamNotEnabled` ("jetstream is not enabled") with the 503 as `cause`;
 * - 10008, 10009, 10004: the meta group has no leader yet, or is changing;
 * - 10005 with "peer offline": a placement that needs a node that is down.
 *
 * A real `JetStreamNotEnabled` (account without JetStream, `err_code` 10039) is not transient.
 */
export function transientReason(
  error: unknown,
  operation: JetStreamOperation = 'api',
): string | undefined {
  if (isTimeout(error)) return 'timeout';
  if (error instanceof JetStreamApiError) {
    switch (error.code) {
      case jsErrorCodes.clusterNotAvailable:
      case jsErrorCodes.clusterNotLeader:
      case jsErrorCodes.clusterIncomplete:
        return `${error.code} ${error.message}`;
      case jsErrorCodes.noSuitablePeers:
        return /peer offline/i.test(error.message) ? `${error.code} ${error.message}` : undefined;
      default:
        return undefined;
    }
  }
  if (isNoResponders(error)) {
    return operation === 'publish' ? 'no stream leader answered (election?)' : 'no responders';
  }
  if (hasCause(error, (e) => e instanceof RequestError && /disconnect/i.test(e.message))) {
    return 'connection lost';
  }
  return undefined;
}

/**
 * Whether JetStream says it cannot place the replicas asked for, so fewer may work: 10074 (a
 * server not in clustered mode), 10005 without "peer offline" (fewer JetStream nodes than
 * replicas), 10023 (no room).
 */
export function cannotPlaceReplicas(error: unknown): boolean {
  if (!(error instanceof JetStreamApiError)) return false;
  if (error.code === jsErrorCodes.noSuitablePeers) return !/peer offline/i.test(error.message);
  return (
    error.code === jsErrorCodes.replicasNotSupported ||
    error.code === jsErrorCodes.insufficientResources
  );
}

/**
 * Whether a create failed because the stream or consumer exists already with another
 * configuration (created at the same instant by another worker, or by an operator): read it
 * again and use it as it is.
 */
export function alreadyExists(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === jsErrorCodes.streamNameExists || error.code === jsErrorCodes.consumerNameExists)
  );
}
