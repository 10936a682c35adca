import { describe, expect, it } from 'vitest';
import { type Io, type Program, perform, runAsync, runSync } from './io.js';

const value = <T>(result: T): Io<T> => ({ sync: () => result, async: async () => result });
const failure = (message: string): Io<never> => ({
  sync: () => {
    throw new Error(message);
  },
  async: async () => {
    throw new Error(message);
  },
});

function* program(log: string[]): Program<string> {
  const a = yield* perform(value(2));
  try {
    yield* perform(failure('boom'));
  } catch (error) {
    log.push(`caught ${(error as Error).message}`);
  } finally {
    log.push(`finally ${yield* perform(value('closed'))}`);
  }
  return `a=${a}`;
}

describe('runSync and runAsync', () => {
  it('feed each step result back and throw step failures into the program', async () => {
    const syncLog: string[] = [];
    const asyncLog: string[] = [];
    expect(runSync(program(syncLog))).toBe('a=2');
    expect(await runAsync(program(asyncLog))).toBe('a=2');
    expect(syncLog).toEqual(['caught boom', 'finally closed']);
    expect(asyncLog).toEqual(syncLog);
  });

  it('let an uncaught step failure escape after finally blocks ran', async () => {
    function* leaking(log: string[]): Program<void> {
      try {
        yield* perform(failure('lost'));
      } finally {
        log.push('cleaned');
      }
    }
    const log: string[] = [];
    expect(() => runSync(leaking(log))).toThrow('lost');
    await expect(runAsync(leaking(log))).rejects.toThrow('lost');
    expect(log).toEqual(['cleaned', 'cleaned']);
  });
});
