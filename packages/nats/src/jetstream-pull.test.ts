import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { Puller } from './jetstream-pull.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/** Just what the puller uses of a connection: publish, subscribe, status. No broker answers. */
function fakeConnection() {
  const published: string[] = [];
  let unsubscribed = 0;
  const nc = {
    options: {},
    isClosed: () => false,
    publish: (subject: string) => {
      published.push(subject);
    },
    subscribe: () => ({
      unsubscribe: () => {
        unsubscribed++;
      },
    }),
    status: () => ({
      stop() {},
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => {}) }),
    }),
  };
  return {
    nc: nc as unknown as NatsConnection,
    published,
    unsubscribed: () => unsubscribed,
  };
}

describe('Puller', () => {
  it('resolves every stop() once its open requests have run out: a lame-duck pause, then a drain', async () => {
    const { nc, published, unsubscribed } = fakeConnection();
    const puller = new Puller({
      nc,
      subject: '$JS.API.CONSUMER.MSG.NEXT.S.c',
      expiresMs: 50,
      free: () => 4,
      whenSlotFree: () => new Promise(() => {}),
      concurrency: 4,
      onMessage: (_msg: Msg) => {},
      recover: async () => {},
      logger: quiet,
    });
    expect(published.length).toBeGreaterThan(0);
    const pause = puller.stop();
    const drain = puller.stop();
    expect(drain).toBe(pause);
    // Nothing answers: the requests are presumed over after expiry + slack (50 + 250 ms).
    const outcome = await Promise.race([
      Promise.all([pause, drain]).then(() => 'both resolved'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3000)),
    ]);
    expect(outcome).toBe('both resolved');
    expect(unsubscribed()).toBe(4);
  });
});
