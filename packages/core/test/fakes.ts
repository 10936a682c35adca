import { EventEmitter } from 'node:events';

export { captureLogger, type LogEntry } from '@handover/testkit';

import type { ProcessPort } from '../src/options.js';
import type {
  BrokerPort,
  DrainNotice,
  DrainSummary,
  ServerCloseReport,
  ServerPort,
} from '../src/ports.js';
import type { Worker } from '../src/types.js';

/** A process stand-in: emit signals on it, read the exit codes it was given. */
export class FakeProcess extends EventEmitter implements ProcessPort {
  readonly pid = 4242;
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

/** A broker port that records the calls the worker makes, in order. */
export class RecordingBroker implements BrokerPort {
  readonly kind = 'broker' as const;
  readonly name = 'fake-broker';
  readonly calls: string[] = [];
  worker: Worker | undefined;
  summary: DrainSummary | undefined;
  connectGate: Promise<void> = Promise.resolve();
  registerGate: Promise<void> = Promise.resolve();

  attach(worker: Worker): void {
    this.worker = worker;
  }
  async connect(signal: AbortSignal): Promise<void> {
    this.calls.push('connect');
    await new Promise<void>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      this.connectGate.then(resolve);
    });
  }
  async register(): Promise<void> {
    this.calls.push(`register:${this.worker?.state}`);
    await this.registerGate;
    this.calls.push('registered');
  }
  async heartbeat(): Promise<void> {
    this.calls.push('heartbeat');
  }
  async markDraining(notice: DrainNotice): Promise<void> {
    this.calls.push(`markDraining:${notice.reason}:${notice.failed ? 'failed' : 'ok'}`);
  }
  async stopIntake(): Promise<void> {
    this.calls.push('stopIntake');
  }
  async deregister(summary: DrainSummary): Promise<void> {
    this.summary = summary;
    this.calls.push(`deregister:abandoned=${summary.abandoned}`);
  }
  async close(): Promise<void> {
    this.calls.push('close');
  }
}

/** A server port whose close finishes when released, or at the deadline. */
export class RecordingServer implements ServerPort {
  readonly kind = 'server' as const;
  readonly name = 'fake-server';
  closeCalledAt: number | undefined;
  destroyedAtDeadline = false;
  #release: (() => void) | undefined;
  #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }
  attach(): void {}
  url(): string | undefined {
    return 'http://10.0.0.5:3000';
  }
  close(deadline: AbortSignal): Promise<ServerCloseReport> {
    this.closeCalledAt = this.#now();
    return new Promise((resolve) => {
      this.#release = () => resolve({ destroyedConnections: 0 });
      deadline.addEventListener('abort', () => {
        this.destroyedAtDeadline = true;
        resolve({ destroyedConnections: 1 });
      });
    });
  }
  release(): void {
    this.#release?.();
  }
}
