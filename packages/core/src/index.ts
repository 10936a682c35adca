export { type Clock, systemClock, type TimerHandle } from './clock.js';
export { type Timing, timingDefaults, timingEnv } from './config.js';
export {
  type CoreErrorCode,
  coreErrorCodes,
  describeError,
  HandoverError,
  HandoverOptionError,
  isHandoverError,
  TaskAbortedError,
} from './errors.js';
export type { HookFn, HookOptions } from './hooks.js';
export { createDefaultLogger, type LogFn, type Logger } from './logger.js';
export type { ProcessPort, WorkerIdentity, WorkerOptions } from './options.js';
export type { DrainNotice, DrainSummary, Port, PortContext, PortKind } from './ports.js';
export { canTransition, type StateChange, type WorkerState, workerStates } from './state.js';
export {
  type CounterValue,
  durationBuckets,
  type KindStats,
  type TaskOutcome,
  type WorkerStats,
} from './stats.js';
export type {
  TaskFn,
  TaskHandle,
  TaskInfo,
  TaskMeta,
  WorkCounter,
  WorkTable,
} from './tasks.js';
export type {
  ReadinessChange,
  StopResult,
  Worker,
  WorkerEvents,
  WorkerFacts,
  WorkerSnapshot,
} from './types.js';
export { createWorker } from './worker.js';
