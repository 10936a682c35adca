// Errors exactly as nats.js 3.4 builds them from nats-server 2.9.10's answers (measured on a
// 3-node cluster, see docs/cluster-notes.md), for unit tests of the code that reads them.

import { JetStreamApiError } from '@nats-io/jetstream';
import { jserrors } from '@nats-io/jetstream/internal';
import { NoRespondersError, RequestError } from '@nats-io/transport-node';

/** A JetStream API error: HTTP-like `status`, JetStream `err_code`, description. */
export const apiError = (status: number, errCode: number, description: string) =>
  new JetStreamApiError({ code: status, err_code: errCode, description });

/** What `js.publish` (and a KV write) throws while the stream has no leader. */
export const noStreamLeader = (subject: string): Error =>
  new jserrors.JetStreamNotEnabled('jetstream is not enabled', {
    cause: new RequestError(`no responders: '${subject}'`, {
      cause: new NoRespondersError(subject),
    }),
  });

/** A real "JetStream is not enabled for this account". */
export const jetStreamDisabled = (): Error =>
  new jserrors.JetStreamNotEnabled('jetstream not enabled for account');
