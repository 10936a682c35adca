// A service of a compose file (examples/deploy/stack.yml) as `docker service create` settings,
// so that the scenarios deploy what the shipped file says. A key this mapping does not know is
// an error: the test must not silently drop a setting the stack file gained.
import type { ServiceSpec, UpdatePolicy } from './swarm.js';

type Json = Record<string, unknown>;
const known = {
  service: [
    'image',
    'command',
    'environment',
    'volumes',
    'configs',
    'ports',
    'stop_grace_period',
    'deploy',
  ],
  config: ['source', 'target'],
  deploy: ['replicas', 'update_config', 'rollback_config', 'restart_policy', 'endpoint_mode'],
  policy: ['order', 'parallelism', 'delay', 'monitor', 'failure_action'],
  restart: ['condition', 'delay'],
};

function check(where: string, value: Json, keys: readonly string[]): void {
  const unknown = Object.keys(value).filter((key) => !keys.includes(key));
  if (unknown.length > 0)
    throw new Error(
      `Expected ${where} to have only ${keys.join(', ')}, got ${unknown.join(', ')}: teach packages/e2e/src/compose.ts to map it`,
    );
}

function policy(where: string, value: Json | undefined): UpdatePolicy | undefined {
  if (!value) return undefined;
  check(where, value, known.policy);
  return {
    order: value.order as UpdatePolicy['order'],
    parallelism: value.parallelism as number | undefined,
    delay: value.delay as string | undefined,
    monitor: value.monitor as string | undefined,
    failureAction: value.failure_action as UpdatePolicy['failureAction'],
  };
}

/** Where the compose service lands, and what this machine needs changed. */
export interface ComposeOverrides {
  readonly name: string;
  readonly networks: readonly string[];
  /** Replaces the compose `image` (a local build). */
  readonly image?: string;
  /** Added to (and overriding) the compose `environment`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Prefix of named volumes and configs, as `docker stack deploy` prefixes them with the stack name. */
  readonly volumePrefix: string;
  readonly endpointMode?: 'vip' | 'dnsrr';
  readonly health?: ServiceSpec['health'];
  readonly replicas?: number;
}

/** Maps one compose service to a {@link ServiceSpec}. */
export function serviceFromCompose(service: Json, overrides: ComposeOverrides): ServiceSpec {
  check('a compose service', service, known.service);
  const deploy = (service.deploy ?? {}) as Json;
  check('deploy', deploy, known.deploy);
  const restart = deploy.restart_policy as Json | undefined;
  if (restart) check('deploy.restart_policy', restart, known.restart);
  const environment = service.environment ?? {};
  const env = Array.isArray(environment)
    ? Object.fromEntries(
        environment.map((kv: string) => [kv.split('=')[0], kv.split('=').slice(1).join('=')]),
      )
    : Object.fromEntries(Object.entries(environment as Json).map(([k, v]) => [k, String(v)]));
  const mounts = ((service.volumes ?? []) as string[]).map((volume) => {
    const [source, target] = volume.split(':');
    return `type=volume,source=${overrides.volumePrefix}${source},target=${target}`;
  });
  const configs = ((service.configs ?? []) as (Json | string)[]).map((config) => {
    if (typeof config === 'string') return `source=${overrides.volumePrefix}${config}`;
    check('a service config', config, known.config);
    return `source=${overrides.volumePrefix}${config.source}${config.target ? `,target=${config.target}` : ''}`;
  });
  const publish = ((service.ports ?? []) as (string | number)[]).map((port) => {
    if (typeof port === 'object')
      throw new Error(
        'Expected ports in the short syntax ("8080:8080"): teach packages/e2e/src/compose.ts the long one',
      );
    return String(port);
  });
  return {
    name: overrides.name,
    image: overrides.image ?? (service.image as string),
    networks: overrides.networks,
    replicas: overrides.replicas ?? (deploy.replicas as number | undefined) ?? 1,
    env: { ...env, ...overrides.env },
    args: service.command as string[] | undefined,
    endpointMode: overrides.endpointMode ?? (deploy.endpoint_mode as 'vip' | 'dnsrr' | undefined),
    stopGracePeriod: service.stop_grace_period as string | undefined,
    update: policy('deploy.update_config', deploy.update_config as Json | undefined),
    rollback: policy('deploy.rollback_config', deploy.rollback_config as Json | undefined),
    restart: restart && {
      condition: restart.condition as string | undefined,
      delay: restart.delay as string | undefined,
    },
    mounts,
    configs,
    publish,
    health: overrides.health,
  };
}
