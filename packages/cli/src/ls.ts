import type { NatsConnection } from '@nats-io/transport-node';
import { registrySilence, type ServiceView, viewService } from './fleet.js';
import type { Context } from './io.js';
import { listServices, readSightings, registryManager, requireBucket } from './registry.js';
import { renderViews } from './render.js';
import { pingInstances } from './srv.js';

/** How long `$SRV.PING` answers are collected when a registry is silent. */
const pingWaitMs = 500;

/**
 * The workers of `service` now: its entries, aged on `ctx.now`; when every entry is silent,
 * the instances that answer `$SRV.PING` tell a stalled registry from dead workers.
 */
export async function readView(
  nc: NatsConnection,
  service: string,
  ctx: Pick<Context, 'now'>,
  timeoutMs: number,
): Promise<ServiceView> {
  const sightings = await readSightings(nc, service, ctx.now, timeoutMs);
  const now = ctx.now();
  const answered =
    registrySilence(sightings, now) === undefined
      ? undefined
      : await pingInstances(nc, service, pingWaitMs);
  return viewService(service, sightings, now, answered);
}

/** `handover ls [service]`: one service's workers, or every service's. */
export async function listWorkers(
  nc: NatsConnection,
  ctx: Context,
  request: {
    readonly service: string | undefined;
    readonly json: boolean;
    readonly timeoutMs: number;
  },
): Promise<void> {
  const jsm = await registryManager(nc);
  if (request.service !== undefined) await requireBucket(jsm, request.service);
  const services = request.service === undefined ? await listServices(jsm) : [request.service];
  const views: ServiceView[] = [];
  for (const service of services) views.push(await readView(nc, service, ctx, request.timeoutMs));
  const at = new Date(ctx.now()).toISOString();
  if (request.json) {
    const document = request.service === undefined ? { at, services: views } : { at, ...views[0] };
    ctx.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else if (views.length === 0) {
    ctx.stdout.write('no Handover services on this NATS account (no handover_* bucket)\n');
  } else {
    ctx.stdout.write(renderViews(views, request.service === undefined));
  }
}
