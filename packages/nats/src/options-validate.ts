import { checkPrefix, defaultPrefix } from './names.js';
import type { JetStreamIntakeOptions, NatsBrokerOptions } from './options.js';
import { parseServers } from './servers.js';
import { invalidOption, optionalBackoff, optionalInteger } from './validate.js';

/** Validates the options of `natsBroker()`; throws `HANDOVER_E_INVALID_OPTION` on the first problem. */
export function validateBrokerOptions(options: NatsBrokerOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('options', options, 'an object');
  }
  const prefixError = checkPrefix(options.prefix ?? defaultPrefix);
  if (prefixError) throw prefixError;
  if (options.handler !== undefined && typeof options.handler !== 'function') {
    throw invalidOption('handler', options.handler, 'a function');
  }
  optionalInteger('maxPayloadBytes', options.maxPayloadBytes, 1);
  if (options.servers !== undefined) parseServers(options.servers, 'option');
  const types: [keyof NatsBrokerOptions, string, string][] = [
    ['registry', 'boolean', 'a boolean'],
    ['description', 'string', 'a string'],
    ['credsFile', 'string', 'a path (string)'],
    ['nc', 'object', 'a NatsConnection'],
    ['connection', 'object', 'nats.js ConnectionOptions (an object)'],
  ];
  for (const [name, type, expected] of types) {
    const value = options[name];
    if (value !== undefined && (typeof value !== type || value === null))
      throw invalidOption(name, value, expected);
  }
  if (options.jetstream !== undefined) validateJetStream(options.jetstream);
}

const jetstreamName = /^[A-Za-z0-9_-]{1,255}$/;

function validateJetStream(js: JetStreamIntakeOptions): void {
  if (typeof js !== 'object' || js === null) throw invalidOption('jetstream', js, 'an object');
  if (typeof js.stream !== 'string' || !jetstreamName.test(js.stream)) {
    throw invalidOption('jetstream.stream', js.stream, 'a stream name of [A-Za-z0-9_-]');
  }
  if (
    js.consumer !== undefined &&
    (typeof js.consumer !== 'string' || !jetstreamName.test(js.consumer))
  ) {
    throw invalidOption('jetstream.consumer', js.consumer, 'a consumer name of [A-Za-z0-9_-]');
  }
  if (typeof js.handler !== 'function')
    throw invalidOption('jetstream.handler', js.handler, 'a function');
  optionalInteger('jetstream.ackWaitMs', js.ackWaitMs, 1000);
  optionalInteger('jetstream.maxDeliver', js.maxDeliver, 1);
  optionalBackoff('jetstream.nakDelayMs', js.nakDelayMs);
  const expires = js.pullExpiresMs;
  if (
    expires !== undefined &&
    !(Number.isSafeInteger(expires) && expires >= 50 && expires <= 5000)
  ) {
    throw invalidOption('jetstream.pullExpiresMs', expires, 'an integer from 50 to 5000 (ms)');
  }
}
