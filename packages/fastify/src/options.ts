import type { Worker } from '@handover/core';
import type { AttachServerOptions, EndpointOptions } from '@handover/http';

/**
 * Options of the {@link handoverFastify} plugin: the worker, the endpoint options of
 * `@handover/http` (`paths`, `drain`) and its server options (`keepAliveWhileDraining`,
 * `newConnectionGraceMs`, `onClosing`, `name`, `url`).
 */
export interface HandoverFastifyOptions
  extends EndpointOptions,
    Omit<AttachServerOptions, 'onTeardown'> {
  /** The worker from `createWorker()`, not started yet. */
  readonly worker: Worker;
  /**
   * Register the probe routes (and the drain endpoint route, when `drain` is set). Set to
   * `false` when a probe server on its own port serves them.
   * @default true
   */
  readonly probes?: boolean;
}
