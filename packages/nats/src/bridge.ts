import { describeError, type Logger } from '@handover/core';
import type { NatsConnection } from '@nats-io/transport-node';
import { type ConnectionSettings, openMoveConnection, within } from './connection.js';
import type { RequestIntake } from './intake.js';

export interface BridgeDeps {
  readonly settings: ConnectionSettings;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The worker's connection name; a bridge's is this with `:move`. */
  readonly name: string;
  readonly logger: Logger;
  /** The worker stops: no bridge opens from then on. */
  readonly stopSignal: AbortSignal;
  /** A request intake on `nc` like the worker's own: same handler, codec, queue, context. */
  readonly intake: (nc: NatsConnection) => RequestIntake;
  /** Bound of opening one (connecting, then the server taking the subscription). */
  readonly timeoutMs: number;
}

/** A temporary second connection, on another server, with a request intake of its own. */
export interface Bridge {
  readonly nc: NatsConnection;
  readonly intake: RequestIntake;
  /** When its connection closed (epoch ms), if it has: from then on it serves nothing. */
  closedAt: number | undefined;
}

/**
 * Make before break for a lame-duck move: the worker's connection unsubscribes from the tasks
 * subject while it moves, so a bridge subscribes on another server first, and is retired once
 * the moved connection has subscribed again. Without it, the workers of one node that moved
 * at the same instant left the subject with no subscriber ("no responders"). Its tasks run in
 * the worker like any other (concurrency, drain); a drain closes its intake and, at the end,
 * its connection.
 */
export class Bridges {
  readonly #deps: BridgeDeps;
  readonly #open = new Set<Bridge>();

  constructor(deps: BridgeDeps) {
    this.#deps = deps;
  }

  /**
   * Subscribes on a server other than `from`'s (one in lame duck mode refuses new clients);
   * undefined when none can be reached within the bound: then the move breaks before it makes,
   * which is logged (not during a stop: nothing is moved then that a bridge would serve).
   */
  async open(from: NatsConnection): Promise<Bridge | undefined> {
    const { settings, env, name, logger, stopSignal, timeoutMs } = this.#deps;
    const current = from.getServer();
    // The pool holds the servers the cluster gossiped, not only the configured ones.
    const servers = from
      .getServers()
      .map((server) => server.listen)
      .filter((listen) => listen !== current);
    let nc: NatsConnection | undefined;
    let bridge: Bridge | undefined;
    try {
      if (servers.length === 0) throw new Error('no other server of the cluster is known');
      const signal = AbortSignal.any([stopSignal, AbortSignal.timeout(timeoutMs)]);
      nc = await openMoveConnection(settings, signal, { name, env, servers });
      if (nc.info?.server_id === from.info?.server_id) {
        throw new Error(`it reached the same server (${nc.getServer()})`);
      }
      if (stopSignal.aborted) throw new Error('the worker is stopping');
      bridge = { nc, intake: this.#deps.intake(nc), closedAt: undefined };
      const opened = bridge;
      void nc.closed().then(() => {
        opened.closedAt = Date.now();
      });
      // Seen by a drain from now on, before the first task can arrive.
      this.#open.add(bridge);
      bridge.intake.open();
      // Only once the server has the subscription may the old one go.
      if (!(await within(nc.flush(), timeoutMs))) throw new Error('the server did not answer');
      logger.info({ server: nc.getServer() }, 'subscribed on another NATS server before moving');
      return bridge;
    } catch (error) {
      if (bridge) this.#open.delete(bridge);
      if (nc && !nc.isClosed()) void nc.close().catch(() => {});
      if (!stopSignal.aborted) {
        logger.warn(
          { servers, error: describeError(error) },
          'could not subscribe on another NATS server before moving: this worker serves no task while it moves',
        );
      }
      return undefined;
    }
  }

  /** Unsubscribes the bridge, waits until what it was given is answered, then closes it. */
  async retire(bridge: Bridge): Promise<void> {
    try {
      await bridge.intake.pause();
    } catch (error) {
      this.#deps.logger.warn({ error: describeError(error) }, 'could not unsubscribe the bridge');
    }
    await this.#close(bridge);
  }

  /** The worker is draining: no bridge takes a new task. */
  async stopIntake(): Promise<void> {
    await Promise.all([...this.#open].map((bridge) => bridge.intake.close()));
  }

  /** The worker's work is done: every bridge's connection is closed, its replies sent. */
  async close(): Promise<void> {
    await Promise.all([...this.#open].map((bridge) => this.#close(bridge)));
  }

  /** Drains the bridge's connection (its replies go out first); once, whoever asks first. */
  async #close(bridge: Bridge): Promise<void> {
    if (!this.#open.delete(bridge)) return;
    const { nc, intake } = bridge;
    const server = nc.getServer();
    try {
      if (!nc.isClosed()) await nc.drain();
    } catch (error) {
      this.#deps.logger.warn({ error: describeError(error) }, 'could not drain the bridge');
      await nc.close().catch(() => {});
    }
    const tasks = intake.stats.toJSON().num_requests;
    this.#deps.logger.info({ server, tasks }, 'closed the connection that bridged the move');
  }
}

/** How long the subject had no subscription of this worker while it moved. */
export function unservedMs(bridge: Bridge | undefined, started: number, resumed: number): number {
  if (bridge === undefined) return resumed - started;
  if (bridge.closedAt === undefined) return 0;
  return Math.max(0, resumed - Math.max(started, bridge.closedAt));
}
