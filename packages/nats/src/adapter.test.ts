import { describe, expect, it } from 'vitest';
import { natsBroker } from './adapter.js';

describe('natsBroker', () => {
  it.each([
    [
      { prefix: 'a.*' },
      'Expected `prefix` to be dot-separated tokens of [A-Za-z0-9_-], such as handover, got "a.*" (string)',
    ],
    [{ handler: 'echo' }, 'Expected `handler` to be a function, got "echo" (string)'],
    [{ maxPayloadBytes: 0 }, 'Expected `maxPayloadBytes` to be an integer >= 1, got 0 (number)'],
    [
      { jetstream: { stream: 'a.b', handler: () => {} } },
      'Expected `jetstream.stream` to be a stream name of [A-Za-z0-9_-], got "a.b" (string)',
    ],
    [
      { jetstream: { stream: 'JOBS' } },
      'Expected `jetstream.handler` to be a function, got undefined',
    ],
    [
      { jetstream: { stream: 'JOBS', handler: () => {}, ackWaitMs: 10 } },
      'Expected `jetstream.ackWaitMs` to be an integer >= 1000, got 10 (number)',
    ],
    [
      { jetstream: { stream: 'JOBS', handler: () => {}, pullExpiresMs: 20_000 } },
      'Expected `jetstream.pullExpiresMs` to be an integer from 50 to 5000 (ms), got 20000 (number)',
    ],
    [
      { jetstream: { stream: 'JOBS', handler: () => {}, nakDelayMs: { base: 5, max: 1 } } },
      'Expected `jetstream.nakDelayMs` to be an object { base, max } of ms with 0 <= base <= max, got a value of type object',
    ],
  ])('refuses %j with HANDOVER_E_INVALID_OPTION', (options, message) => {
    expect(() => natsBroker(options as never)).toThrow(
      expect.objectContaining({ code: 'HANDOVER_E_INVALID_OPTION', message }),
    );
  });

  it('is a broker port named nats, with no connection before connect()', () => {
    const broker = natsBroker({ handler: () => 1 });
    expect(broker.kind).toBe('broker');
    expect(broker.name).toBe('nats');
    expect(broker.connection).toBeUndefined();
  });
});
