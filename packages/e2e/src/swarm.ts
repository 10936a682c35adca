// Swarm services through the CLI, the way an operator runs them: create, update, scale, remove;
// and what happened to their tasks (exit codes, containers' host names and addresses).
import { docker, dockerJson, dockerStream } from './docker.js';
import { until } from './until.js';

/** `update_config` / `rollback_config` of a service. */
export interface UpdatePolicy {
  readonly order?: 'start-first' | 'stop-first';
  readonly parallelism?: number;
  /** Docker duration, e.g. `2s`. */
  readonly delay?: string;
  readonly monitor?: string;
  readonly failureAction?: 'pause' | 'continue' | 'rollback';
}

/** A service, in the terms of `docker service create`. */
export interface ServiceSpec {
  readonly name: string;
  readonly image: string;
  readonly networks: readonly string[];
  readonly replicas?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Arguments after the image (compose `command`). */
  readonly args?: readonly string[];
  /** `dnsrr` where the service's VIP is not reachable (as on this machine). */
  readonly endpointMode?: 'vip' | 'dnsrr';
  readonly stopGracePeriod?: string;
  readonly update?: UpdatePolicy;
  readonly rollback?: UpdatePolicy;
  readonly restart?: { readonly condition?: string; readonly delay?: string };
  /** `--mount` values, e.g. `type=volume,source=x,target=/data`. */
  readonly mounts?: readonly string[];
  /** `--config` values, e.g. `source=x,target=/etc/app.cfg` (the config must exist). */
  readonly configs?: readonly string[];
  /** `--publish` values, e.g. `8080:8080` (the routing mesh: needs IPVS, see docs/docker.md). */
  readonly publish?: readonly string[];
  /** Overrides of the image's HEALTHCHECK, e.g. `{ timeout: '10s' }`. */
  readonly health?: Readonly<
    Partial<Record<'interval' | 'timeout' | 'start-period' | 'retries', string>>
  >;
  readonly labels?: Readonly<Record<string, string>>;
}

const policyFlags = (prefix: 'update' | 'rollback', policy: UpdatePolicy = {}): string[] => [
  ...(policy.order ? [`--${prefix}-order`, policy.order] : []),
  ...(policy.parallelism !== undefined
    ? [`--${prefix}-parallelism`, String(policy.parallelism)]
    : []),
  ...(policy.delay ? [`--${prefix}-delay`, policy.delay] : []),
  ...(policy.monitor ? [`--${prefix}-monitor`, policy.monitor] : []),
  ...(policy.failureAction ? [`--${prefix}-failure-action`, policy.failureAction] : []),
];

/** The `docker service create` arguments for `spec`. */
export function serviceArgs(spec: ServiceSpec): string[] {
  return [
    '--name',
    spec.name,
    ...spec.networks.flatMap((network) => ['--network', network]),
    '--replicas',
    String(spec.replicas ?? 1),
    ...Object.entries(spec.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    ...(spec.endpointMode ? ['--endpoint-mode', spec.endpointMode] : []),
    ...(spec.stopGracePeriod ? ['--stop-grace-period', spec.stopGracePeriod] : []),
    ...policyFlags('update', spec.update),
    ...policyFlags('rollback', spec.rollback),
    ...(spec.restart?.condition ? ['--restart-condition', spec.restart.condition] : []),
    ...(spec.restart?.delay ? ['--restart-delay', spec.restart.delay] : []),
    ...(spec.mounts ?? []).flatMap((mount) => ['--mount', mount]),
    ...(spec.configs ?? []).flatMap((config) => ['--config', config]),
    ...(spec.publish ?? []).flatMap((port) => ['--publish', port]),
    ...Object.entries(spec.health ?? {}).flatMap(([k, v]) => [`--health-${k}`, v]),
    ...Object.entries(spec.labels ?? {}).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    spec.image,
    ...(spec.args ?? []),
  ];
}

/** Runs a command that waits for convergence; resolves with how long it took. */
async function timed(args: readonly string[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  await docker(args, { timeoutMs });
  return Date.now() - started;
}

/** Creates an attachable overlay network (load containers join it with `docker run`). */
export async function createNetwork(name: string): Promise<void> {
  await docker(['network', 'create', '--driver', 'overlay', '--attachable', name]);
}

/** Removes a network (gone already is fine), retrying while the engine tears down endpoints. */
export async function removeNetwork(name: string): Promise<void> {
  await until(
    () =>
      docker(['network', 'rm', name]).then(
        () => true,
        (error: Error) => {
          if (/not found|no such network/i.test(error.message)) return true;
          throw error;
        },
      ),
    { timeoutMs: 30_000, what: `network ${name} removed` },
  );
}

/** `docker service create`, which returns once the tasks run (and are healthy). */
export function createService(spec: ServiceSpec, timeoutMs = 180_000): Promise<number> {
  return timed(['service', 'create', '--quiet', ...serviceArgs(spec)], timeoutMs);
}

/** `docker service update <flags> <name>`, which returns when the update completed. */
export function updateService(
  name: string,
  flags: readonly string[],
  timeoutMs = 300_000,
): Promise<number> {
  return timed(['service', 'update', '--quiet', ...flags, name], timeoutMs);
}

/** `docker service scale name=replicas`, which returns once the service converged. */
export function scaleService(name: string, replicas: number, timeoutMs = 180_000): Promise<number> {
  return timed(['service', 'scale', '--detach=false', `${name}=${replicas}`], timeoutMs);
}

/** The update status Swarm keeps (state, when it started and completed). */
export async function updateStatus(
  name: string,
): Promise<{ state?: string; startedAt?: string; completedAt?: string; message?: string }> {
  const [service] = await dockerJson<
    {
      UpdateStatus?: { State?: string; StartedAt?: string; CompletedAt?: string; Message?: string };
    }[]
  >(['service', 'inspect', name]);
  const s = service?.UpdateStatus ?? {};
  return { state: s.State, startedAt: s.StartedAt, completedAt: s.CompletedAt, message: s.Message };
}

/**
 * Removes services one after another, in the order given (workers before the broker they
 * deregister from), each once its containers are gone.
 */
export async function removeServices(names: readonly string[]): Promise<void> {
  for (const name of names) {
    await docker(['service', 'rm', name]).catch(() => {}); // already gone: fine
    await until(
      async () =>
        (
          await docker(['ps', '-aq', '--filter', `label=com.docker.swarm.service.name=${name}`])
        ).trim() === '',
      { timeoutMs: 60_000, what: `the containers of ${name} gone` },
    );
  }
}

/** A task of a service, from `docker inspect <task>`. */
export interface Task {
  readonly id: string;
  readonly slot?: number;
  readonly image: string;
  readonly desired: string;
  readonly state: string;
  readonly error?: string;
  readonly containerId?: string;
  readonly exitCode?: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface RawTask {
  ID: string;
  Slot?: number;
  CreatedAt: string;
  UpdatedAt: string;
  DesiredState: string;
  Spec: { ContainerSpec: { Image: string } };
  Status: {
    State: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
}

/** Every task of the service that Swarm still remembers (running and shut down). */
export async function serviceTasks(name: string): Promise<Task[]> {
  const ids = (await docker(['service', 'ps', '-q', '--no-trunc', name]))
    .split('\n')
    .filter(Boolean);
  if (ids.length === 0) return [];
  const raw = await dockerJson<RawTask[]>(['inspect', '--type', 'task', ...ids]).catch(
    // Older engines have no --type task; plain inspect finds tasks by id too.
    () => dockerJson<RawTask[]>(['inspect', ...ids]),
  );
  return raw.map((t) => ({
    id: t.ID,
    slot: t.Slot,
    image: t.Spec.ContainerSpec.Image.split('@')[0] as string,
    desired: t.DesiredState,
    state: t.Status.State,
    error: t.Status.Err,
    containerId: t.Status.ContainerStatus?.ContainerID,
    exitCode: t.Status.ContainerStatus?.ExitCode,
    createdAt: t.CreatedAt,
    updatedAt: t.UpdatedAt,
  }));
}

/** A running task's container: its host name and its address on each network. */
export interface TaskContainer {
  readonly id: string;
  readonly hostname: string;
  readonly image: string;
  readonly addresses: Readonly<Record<string, string>>;
  readonly health?: string;
  readonly env: Readonly<Record<string, string>>;
}

/** The containers of the service's running tasks. */
export async function runningContainers(name: string): Promise<TaskContainer[]> {
  const ids = (
    await docker([
      'ps',
      '-q',
      '--no-trunc',
      '--filter',
      `label=com.docker.swarm.service.name=${name}`,
    ])
  )
    .split('\n')
    .filter(Boolean);
  if (ids.length === 0) return [];
  const raw = await dockerJson<
    {
      Id: string;
      Config: { Hostname: string; Image: string; Env: string[] };
      State: { Health?: { Status: string } };
      NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
    }[]
  >(['inspect', '--type', 'container', ...ids]);
  return raw.map((c) => ({
    id: c.Id,
    hostname: c.Config.Hostname,
    image: c.Config.Image.split('@')[0] as string,
    addresses: Object.fromEntries(
      Object.entries(c.NetworkSettings.Networks).map(([net, n]) => [net, n.IPAddress]),
    ),
    health: c.State.Health?.Status,
    env: Object.fromEntries(
      c.Config.Env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    ),
  }));
}

/** A container of the service that exited, as the engine reported it (`docker events`). */
export interface ContainerExit {
  readonly containerId: string;
  readonly taskId: string;
  readonly exitCode: number;
  readonly at: number;
}

/**
 * Records every exit of the service's containers from now on. Tasks removed by a scale-down
 * vanish from `docker service ps` (and their containers with them); their exits stay here.
 */
export function watchExits(
  service: string,
  sinceMs = Date.now(),
): { stop(): Promise<ContainerExit[]>; seen(): ContainerExit[] } {
  const stream = dockerStream([
    'events',
    // From a moment before the CLI connected: no exit is missed in between.
    '--since',
    (sinceMs / 1000).toFixed(3),
    '--format',
    '{{json .}}',
    '--filter',
    'type=container',
    '--filter',
    'event=die',
    '--filter',
    `label=com.docker.swarm.service.name=${service}`,
  ]);
  const parse = (lines: readonly string[]): ContainerExit[] =>
    lines.map((line) => {
      const event = JSON.parse(line) as {
        id: string;
        timeNano: number;
        Actor: { Attributes: Record<string, string> };
      };
      return {
        containerId: event.id,
        taskId: event.Actor.Attributes['com.docker.swarm.task.id'] ?? '',
        exitCode: Number(event.Actor.Attributes.exitCode),
        at: Math.round(event.timeNano / 1e6),
      };
    });
  return { stop: async () => parse(await stream.stop()), seen: () => parse(stream.lines) };
}
