import { describe, expect, it } from 'vitest';
import { type StopFacts, stopResult } from './stop-result.js';

const clean: StopFacts = {
  reason: 'SIGTERM',
  wasReady: true,
  failed: false,
  forced: false,
  drainMs: 120,
  error: undefined,
  abandoned: [],
  failedHooks: [],
  signals: ['SIGTERM', 'SIGINT'],
  exitCodeFromSignal: false,
};
const task = { name: 'job', key: '1', status: 'running' as const, ageMs: 5 };

describe('stopResult', () => {
  it.each<[string, Partial<StopFacts>, number]>([
    ['a clean stop after a signal', {}, 0],
    ['a clean stop with exitCodeFromSignal', { exitCodeFromSignal: true }, 143],
    [
      'a clean stop via the API with exitCodeFromSignal',
      { reason: 'api', exitCodeFromSignal: true },
      0,
    ],
    ['work cut off at the deadline', { abandoned: [task] }, 1],
    ['a failed shutdown hook', { failedHooks: ['db'] }, 1],
    ['a failure', { failed: true, exitCodeFromSignal: true }, 1],
    ['a forced exit', { forced: true }, 1],
    ['a second SIGINT', { forced: true, exitCode: 130 }, 130],
  ])('exits with the right code after %s', (_name, patch, code) => {
    expect(stopResult({ ...clean, ...patch }).exitCode).toBe(code);
  });

  it('keeps the error only when there is one', () => {
    expect('error' in stopResult(clean)).toBe(false);
    expect(stopResult({ ...clean, failed: true, error: new Error('x') }).error).toBeInstanceOf(
      Error,
    );
  });
});
