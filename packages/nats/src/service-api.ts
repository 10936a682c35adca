import type { Logger, PortContext } from '@handover/core';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { ServiceNames } from './names.js';
import type { EndpointStats } from './stats.js';
import { encodeJson } from './wire.js';

const verbs = ['PING', 'INFO', 'STATS'] as const;
type Verb = (typeof verbs)[number];
const types: Record<Verb, string> = {
  PING: 'io.nats.micro.v1.ping_response',
  INFO: 'io.nats.micro.v1.info_response',
  STATS: 'io.nats.micro.v1.stats_response',
};

export interface ServiceApiDeps {
  readonly nc: NatsConnection;
  readonly names: ServiceNames;
  readonly context: PortContext;
  readonly logger: Logger;
  readonly description: string;
  readonly endpoints: () => readonly EndpointStats[];
}

/**
 * The NATS service API responders (ADR-32): `$SRV.<VERB>`, `$SRV.<VERB>.<svc>` and
 * `$SRV.<VERB>.<svc>.<instance>` for PING, INFO and STATS, so `nats micro ls/info/stats` see
 * the worker. The micro `name` is the service, its `id` the instance.
 */
export class ServiceApi {
  readonly #deps: ServiceApiDeps;
  #subs: Subscription[] = [];
  #started = '';

  constructor(deps: ServiceApiDeps) {
    this.#deps = deps;
  }

  open(): void {
    const { nc, context } = this.#deps;
    this.#started = new Date().toISOString();
    for (const verb of verbs) {
      for (const subject of [
        `$SRV.${verb}`,
        `$SRV.${verb}.${context.service}`,
        `$SRV.${verb}.${context.service}.${context.instance}`,
      ]) {
        this.#subs.push(
          nc.subscribe(subject, {
            callback: (error, msg) => {
              if (error)
                return this.#deps.logger.error(
                  { error: error.message, subject },
                  '$SRV subscription error',
                );
              msg.respond(encodeJson(this.response(verb)));
            },
          }),
        );
      }
    }
  }

  async close(): Promise<void> {
    const subs = this.#subs;
    this.#subs = [];
    await Promise.all(subs.filter((s) => !s.isClosed()).map((s) => s.drain()));
  }

  /** The response to `verb`, as the responders send it. */
  response(verb: Verb): Record<string, unknown> {
    const { context, description, endpoints } = this.#deps;
    const base = {
      type: types[verb],
      name: context.service,
      id: context.instance,
      version: context.version,
      metadata: { ...context.metadata, 'handover.id': context.id },
    };
    if (verb === 'PING') return base;
    if (verb === 'INFO') {
      return {
        ...base,
        description,
        endpoints: endpoints().map((e) => ({
          name: e.name,
          subject: e.subject,
          queue_group: e.queueGroup,
          metadata: {},
        })),
      };
    }
    const data = { state: context.state, inflight: context.inflight };
    return { ...base, started: this.#started, endpoints: endpoints().map((e) => e.toJSON(data)) };
  }
}
