import { EventEmitter } from 'node:events';

export { captureLogger, type LogEntry } from '@handover/testkit';

import type { ProcessPort } from '../src/options.js';
import type { DrainNotice, DrainSummary, Port, PortContext } from '../src/ports.js';

/** A process stand-in: emit signals on it, read the exit codes it was given. */
export class FakeProcess extends EventEmitter implements ProcessPort {
  readonly pid = 4242;
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

/** A broker port that records the calls the worker makes, in order. */
export class RecordingBroker implements Port {
  readonly kind = 'broker' as const;
  readonly name = 'fake-broker';
  readonly calls: string[] = [];
  context: PortContext | undefined;
  summary: DrainSummary | undefined;
  connectGate: Promise<void> = Promise.resolve();
  openGate: Promise<void> = Promise.resolve();
  /** The signal `open` got, to check that a stop reaches an adapter still opening. */
  openSignal: AbortSignal | undefined;

  attach(context: PortContext): void {
    this.context = context;
  }
  async connect(signal: AbortSignal): Promise<void> {
    this.calls.push('connect');
    await new Promise<void>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      this.connectGate.then(resolve);
    });
  }
  async open(signal: AbortSignal): Promise<void> {
    this.openSignal = signal;
    this.calls.push(`open:${this.context?.state}`);
    await this.openGate;
    this.calls.push('opened');
  }
  async heartbeat(): Promise<void> {
    this.calls.push('heartbeat');
  }
  async draining(notice: DrainNotice): Promise<void> {
    this.calls.push(`draining:${notice.reason}:${notice.failed ? 'failed' : 'ok'}`);
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
export class RecordingServer implements Port {
  readonly kind = 'server' as const;
  readonly name = 'fake-server';
  readonly calls: string[] = [];
  closeCalledAt: number | undefined;
  destroyedAtDeadline = false;
  /** What `teardown` does (a framework's close hooks). */
  onTeardown: () => Promise<void> = async () => {};
  #release: (() => void) | undefined;
  #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }
  attach(): void {}
  url(): string | undefined {
    return 'http://10.0.0.5:3000';
  }
  draining(notice: DrainNotice): void {
    this.calls.push(`draining:${notice.reason}`);
  }
  stopIntake(deadline: AbortSignal): Promise<void> {
    this.closeCalledAt = this.#now();
    this.calls.push('stopIntake');
    return new Promise((resolve) => {
      this.#release = () => {
        this.calls.push('closed');
        resolve();
      };
      deadline.addEventListener('abort', () => {
        this.destroyedAtDeadline = true;
        resolve();
      });
    });
  }
  async teardown(): Promise<void> {
    this.calls.push('teardown');
    await this.onTeardown();
  }
  release(): void {
    this.#release?.();
  }
}
