// The Express app of examples/express-app on Swarm behind HAProxy, deployed with the settings of
// examples/express-app/stack.yml and haproxy.cfg: the images, the two services, and the report.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { serviceFromCompose } from './compose.js';
import { docker } from './docker.js';
import type { HttpLoadSummary } from './http-load.js';
import { hostImage, nodeImage, versionedImage } from './images.js';
import { repoRoot } from './paths.js';
import { versionLine } from './report.js';
import { type PhaseOf, teardown } from './scenario.js';
import { createNetwork, createService, type ServiceSpec } from './swarm.js';
import { workspaceImage } from './workspace-image.js';

/** The shipped stack file of the Express app, parsed. */
export function readExpressStack(): {
  services: Record<string, Record<string, unknown>>;
  configs: Record<string, { file: string }>;
} {
  return parse(readFileSync(join(repoRoot, 'examples/express-app/stack.yml'), 'utf8'));
}

/**
 * Stands in for the official `haproxy` image: this machine's `haproxy` (Debian's 2.6) and its
 * libraries, started as the official image's entrypoint starts it (`-W -db`: master-worker, in
 * the foreground), with its config path. Runs as root (the official image as `haproxy`), and
 * stops on SIGTERM (the official image's STOPSIGNAL is SIGUSR1, a soft stop; `docker import`
 * cannot set one).
 */
export async function haproxyImage(haproxy = '/usr/sbin/haproxy'): Promise<string> {
  if (!existsSync(haproxy))
    throw new Error(
      `Expected HAProxy at ${haproxy} to build the load balancer's image: apt-get install haproxy`,
    );
  return hostImage('haproxy', {
    binaries: [{ from: haproxy, to: '/usr/local/sbin/haproxy' }, { from: '/bin/sh' }],
    files: {
      '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n',
      '/etc/group': 'root:x:0:\n',
      '/etc/nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files dns\n',
    },
    dirs: [
      { path: '/tmp', mode: 0o1777 },
      { path: '/usr/local/etc/haproxy', mode: 0o755 },
      { path: '/var/lib/haproxy', mode: 0o755 },
    ],
    changes: [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]',
      'EXPOSE 8080',
    ],
  });
}

/** The images of the scenario; `versions[v]` is the app's image with HANDOVER_VERSION=v. */
export interface ExpressImages {
  readonly node: string;
  readonly haproxy: string;
  readonly web: string;
  readonly versions: Readonly<Record<string, string>>;
  /** How the app's image differs from `docker build -f examples/express-app/Dockerfile .`. */
  readonly differences: readonly string[];
  readonly ms: number;
}

/** Builds (or finds) every image: base, HAProxy, the app, and one tag per version. */
export async function expressImages(versions: readonly string[]): Promise<ExpressImages> {
  const started = Date.now();
  const node = await nodeImage();
  const haproxy = await haproxyImage();
  const web = await workspaceImage({
    packageName: '@handover/example-express-app',
    name: 'express-app',
    dockerfile: 'examples/express-app/Dockerfile',
    base: node,
  });
  const tags: Record<string, string> = {};
  for (const version of versions) tags[version] = await versionedImage(web.tag, version);
  return {
    node,
    haproxy,
    web: web.tag,
    versions: tags,
    differences: web.differences,
    ms: Date.now() - started,
  };
}

/** A deployment: the network, the app service and HAProxy. */
export interface ExpressDeployment {
  readonly prefix: string;
  readonly network: string;
  readonly web: string;
  readonly lb: string;
  /** The load balancer as clients on the network reach it. */
  readonly target: string;
  readonly images: ExpressImages;
  readonly createMs: number;
}

const names = (prefix: string) => ({
  network: `${prefix}-net`,
  web: `${prefix}-web`,
  lb: `${prefix}-lb`,
  config: `${prefix}-haproxy`,
});

/** Removes what {@link deployExpress} made with this prefix, also when it failed half-way. */
export async function removeExpress(prefix: string): Promise<void> {
  const { network, web, lb, config } = names(prefix);
  await teardown(prefix, [lb, web], network);
  await docker(['config', 'rm', config]).catch(() => {});
}

/** Options of {@link deployExpress}. */
export interface DeployExpressOptions {
  readonly prefix: string;
  readonly images: ExpressImages;
  readonly version: string;
  readonly replicas?: number;
  /** Added to the stack's environment (WARMUP_MS, REQUEST_MS...). */
  readonly env?: Readonly<Record<string, string>>;
  /** Overrides of the image's HEALTHCHECK. */
  readonly health?: ServiceSpec['health'];
}

/**
 * Creates the network, the config (haproxy.cfg as shipped), and the two services of stack.yml
 * with what this machine needs: local images, `dnsrr` for HAProxy too (no service VIP here),
 * no published port (the routing mesh needs IPVS; clients run on the network), and the stack's
 * service names as network aliases (`web`, `lb`), so that haproxy.cfg is used unchanged.
 */
export async function deployExpress(options: DeployExpressOptions): Promise<ExpressDeployment> {
  const { prefix, images } = options;
  const stack = readExpressStack();
  const { network, web, lb, config } = names(prefix);
  await createNetwork(network);
  const configFile = stack.configs.haproxy?.file ?? './haproxy.cfg';
  await docker(['config', 'create', config, join(repoRoot, 'examples/express-app', configFile)]);
  const webSpec = serviceFromCompose(stack.services.web as Record<string, unknown>, {
    name: web,
    networks: [`name=${network},alias=web`],
    image: images.versions[options.version],
    volumePrefix: `${prefix}-`,
    replicas: options.replicas,
    env: options.env,
    health: options.health,
  });
  const { HANDOVER_VERSION: _pinned, ...env } = webSpec.env ?? {};
  const started = Date.now();
  await createService({ ...webSpec, env });
  const lbSpec = serviceFromCompose(stack.services.lb as Record<string, unknown>, {
    name: lb,
    networks: [`name=${network},alias=lb`],
    image: images.haproxy,
    volumePrefix: `${prefix}-`,
    endpointMode: 'dnsrr',
  });
  if (lbSpec.publish?.length !== 1)
    throw new Error(`Expected the lb service to publish one port, got ${lbSpec.publish}`);
  // dnsrr services cannot publish in ingress mode; the clients are on the network anyway.
  await createService({ ...lbSpec, publish: [] });
  return {
    prefix,
    network,
    web,
    lb,
    target: `http://lb:${lbSpec.publish[0]?.split(':').at(-1)}`,
    images,
    createMs: Date.now() - started,
  };
}

/** HAProxy's server state changes (`web/web3 is DOWN, reason: ...`), from its log. */
export async function haproxyEvents(lb: string, sinceMs: number): Promise<string[]> {
  const out = await docker([
    'service',
    'logs',
    '--raw',
    '--no-task-ids',
    '--since',
    new Date(sinceMs).toISOString(),
    lb,
  ]).catch((error: Error) => error.message);
  return out
    .split('\n')
    .filter((line) => /Server web\/web\d+ .*(UP|DOWN|maintenance|MAINT|changed its IP)/i.test(line))
    .map((line) => line.replace(/^.*?(Server web\/)/, '$1').trim());
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const kinds = (errors: Record<string, number>) =>
  Object.keys(errors).length === 0
    ? ''
    : ` (${Object.entries(errors)
        .map(([k, n]) => `${n} × ${k}`)
        .join(', ')})`;

/** The phase as text: requests by method, failures, rate, commands, exits, versions. */
export function httpPhaseReport(phase: PhaseOf<HttpLoadSummary>, lbEvents: string[] = []): string {
  const { requests, sendingMs, unanswered, orders } = phase.load;
  const total = requests.GET.sent + requests.POST.sent;
  const versions = versionLine(phase.load);
  const line = (method: 'GET' | 'POST') => {
    const m = requests[method];
    return `  ${method.padEnd(4)} ${m.sent} sent, ${m.ok} ok, ${m.failed} failed: ${m.fiveXx} 5xx, ${m.resets} resets${kinds(m.errors)}; answered by ${kinds(m.versions).slice(1) || '-'}`;
  };
  return [
    `${phase.name} (${s(phase.ms)})`,
    `  commands: ${phase.steps.map((step) => `${step.name} ${s(step.ms)}`).join(', ') || '-'}`,
    `  load (no retry, keep-alive, open-loop): ${total} requests in ${s(sendingMs)} = ${Math.round(total / (sendingMs / 1000))}/s; ${unanswered} unanswered`,
    line('GET'),
    line('POST'),
    `  POST order numbers per worker (answers: lowest-highest, duplicates): ${
      Object.entries(orders)
        .map(([worker, o]) => `${worker} ${o.count}: ${o.min}-${o.max}, ${o.duplicates}`)
        .join(', ') || '-'
    }`,
    `  ended tasks: ${
      phase.ended
        .map(
          (t) =>
            `slot ${t.slot ?? '-'} ${t.state} exit ${t.exitCode ?? '?'}${t.containerExitCode !== undefined && t.containerExitCode !== t.exitCode ? ` (container ${t.containerExitCode})` : ''}`,
        )
        .join(', ') || 'none'
    }`,
    `  HAProxy: ${lbEvents.length} server state changes${lbEvents.length ? `\n    ${lbEvents.join('\n    ')}` : ''}`,
    `  ${'versions answering'.padEnd(20)}${versions.line}`,
    `  ${''.padEnd(20)}${versions.legend}   +: both   x: a failure`,
  ].join('\n');
}
