// One scenario's moving parts on Swarm: an overlay network, the services deployed on it, and
// phases of load around operator commands (update, scale), with what each phase ended.
import { randomBytes } from 'node:crypto';
import { docker } from './docker.js';
import { type NatsLoadOptions, type NatsLoadSummary, startNatsLoad } from './nats-load.js';
import {
  type ContainerExit,
  removeNetwork,
  removeServices,
  serviceTasks,
  type Task,
  watchExits,
} from './swarm.js';
import { until } from './until.js';

/** A short unique prefix for a run's services, network and volumes (`e2e-3f9a1c`). */
export function runPrefix(): string {
  return `e2e-${randomBytes(3).toString('hex')}`;
}

/** A step of a phase: an operator command that resolves with how long it took. */
export interface Step {
  readonly name: string;
  readonly run: () => Promise<number>;
}

/** A task that was running when the phase began, or started during it, and has ended. */
export interface EndedTask {
  readonly taskId: string;
  readonly containerId?: string;
  readonly slot?: number;
  readonly image?: string;
  /** Swarm's state of the task (`shutdown`, `failed`...); `removed` once a scale-down deleted it. */
  readonly state: string;
  /** The exit code Swarm recorded for the task (for a removed task, the engine's). */
  readonly exitCode?: number;
  /** The exit code the engine reported when the container died (`docker events`). */
  readonly containerExitCode?: number;
  readonly error?: string;
}

/** What one phase did and saw; `L` is what its load reported (NATS requests and jobs, HTTP...). */
export interface PhaseOf<L> {
  readonly name: string;
  readonly load: L;
  readonly steps: readonly { readonly name: string; readonly ms: number }[];
  readonly ended: readonly EndedTask[];
  readonly ms: number;
}

/** A phase of the queue worker's scenarios: NATS requests and JetStream jobs. */
export type Phase = PhaseOf<NatsLoadSummary>;

/** Options of {@link runPhase}. */
export interface PhaseOptions {
  readonly name: string;
  readonly service: string;
  readonly load: NatsLoadOptions;
  readonly steps: readonly Step[];
  /** Steady load before the first step and after the last one. @default 3000 */
  readonly steadyMs?: number;
}

/** A load that runs until stopped, then says what it saw. */
export interface RunningLoad<L> {
  stop(): Promise<L>;
}

/** Options of {@link runPhaseWith}: {@link PhaseOptions} with any load. */
export interface PhaseWithOptions<L> extends Omit<PhaseOptions, 'load'> {
  /** Starts the load; resolves once it sends. */
  readonly start: () => Promise<RunningLoad<L>>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the load, runs the steps one after another, keeps the load a little longer, stops it
 * (which waits for every ack), and collects the tasks that ended meanwhile with their exit codes.
 */
export function runPhase(options: PhaseOptions): Promise<Phase> {
  const { load, ...rest } = options;
  return runPhaseWith({ ...rest, start: () => startNatsLoad(load) });
}

/**
 * {@link runPhase} with any load: starts it, runs the steps with steady load on both sides,
 * stops it, and collects the tasks that ended meanwhile with their exit codes.
 */
export async function runPhaseWith<L>(options: PhaseWithOptions<L>): Promise<PhaseOf<L>> {
  const started = Date.now();
  // From `started` on (the engine replays what happened before the CLI connected).
  const exits = watchExits(options.service, started);
  try {
    const before = new Set(
      (await serviceTasks(options.service)).filter((t) => t.desired === 'running').map((t) => t.id),
    );
    const load = await options.start();
    const steps: { name: string; ms: number }[] = [];
    let summary: L;
    try {
      // Steady load on both sides of the operator's commands is part of the scenario (the
      // before and after of the timeline), not a wait for something to settle.
      await pause(options.steadyMs ?? 3000);
      for (const step of options.steps) steps.push({ name: step.name, ms: await step.run() });
      await pause(options.steadyMs ?? 3000);
    } finally {
      summary = await load.stop();
    }
    const listed = (await serviceTasks(options.service)).filter(
      (t) => t.desired !== 'running' && (before.has(t.id) || Date.parse(t.createdAt) >= started),
    );
    // The engine reports a death before Swarm records the task's end; bounded all the same.
    await until(
      () =>
        listed.every(
          (t) => !t.containerId || exits.seen().some((e) => e.containerId === t.containerId),
        ),
      { timeoutMs: 10_000, what: 'the exit events of the ended tasks' },
    ).catch(() => {});
    return {
      name: options.name,
      load: summary,
      steps,
      ended: endedTasks(listed, exits.seen()),
      ms: Date.now() - started,
    };
  } finally {
    await exits.stop();
  }
}

/** Swarm's list of ended tasks joined with the engine's exits (which also has removed tasks). */
function endedTasks(listed: readonly Task[], exits: readonly ContainerExit[]): EndedTask[] {
  const byTask = new Map(exits.map((e) => [e.taskId, e]));
  const fromList = listed.map((t) => ({
    taskId: t.id,
    containerId: t.containerId,
    slot: t.slot,
    image: t.image,
    state: t.state,
    exitCode: t.exitCode,
    containerExitCode: byTask.get(t.id)?.exitCode,
    error: t.error,
  }));
  const removed = exits
    .filter((e) => !listed.some((t) => t.id === e.taskId))
    .map((e) => ({
      taskId: e.taskId,
      containerId: e.containerId,
      state: 'removed',
      exitCode: e.exitCode,
      containerExitCode: e.exitCode,
    }));
  return [...fromList, ...removed];
}

/** Removes what a run created: services, then its network and volumes. */
export async function teardown(prefix: string, services: readonly string[], network: string) {
  await removeServices(services);
  await removeNetwork(network);
  const volumes = (await docker(['volume', 'ls', '-q', '--filter', `name=${prefix}`]))
    .split('\n')
    .filter(Boolean);
  if (volumes.length > 0) await docker(['volume', 'rm', ...volumes]).catch(() => {});
}
