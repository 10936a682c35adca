import { getFreePort, type NatsServer, startNatsServer, waitFor } from '@handover/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchWorkers } from '../src/exports/controller.js';

// A controller that may use the bucket's stream but not create consumers: the watch fails
// after the events subscription is already made.
const config = `authorization {
  users = [{
    user: "watcher", password: "watcher-pw-1",
    permissions: { publish: { allow: [">"], deny: ["$JS.API.CONSUMER.>"] }, subscribe: ">" }
  }]
}`;

let server: NatsServer;
let nc: NatsConnection;
let monitor: number;

/** The subscriptions the server holds for our connection (its monitoring endpoint says). */
async function subscriptions(): Promise<string[]> {
  const response = await fetch(
    `http://127.0.0.1:${monitor}/connz?subs=1&cid=${nc.info?.client_id}`,
  );
  const body = (await response.json()) as { connections: { subscriptions_list?: string[] }[] };
  return body.connections[0]?.subscriptions_list ?? [];
}

beforeAll(async () => {
  monitor = await getFreePort();
  server = await startNatsServer({ config, args: ['-m', String(monitor)] });
  nc = await connect({ servers: server.url, user: 'watcher', pass: 'watcher-pw-1' });
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

describe('watchWorkers', () => {
  it('releases the subscription it made when setting up the watch fails', async () => {
    await nc.flush();
    const before = await subscriptions();
    const error = await watchWorkers(nc, 'denied').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    await nc.flush();
    // The server drops the subscription once our UNSUB has reached it.
    const after = await waitFor(
      async () => {
        const subs = await subscriptions();
        return subs.some((s) => s.startsWith('handover.denied.events')) ? undefined : subs;
      },
      { what: 'the events subscription to be released' },
    );
    // nats.js keeps one shared inbox for all its requests: that one is not the watch's.
    const added = after.filter((s) => !before.includes(s) && !s.startsWith('_INBOX.'));
    expect(added).toEqual([]);
  });
});
