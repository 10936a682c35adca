// The Fastify servers the adapter-cost benchmarks compare (fastify-cost, fastify-instructions):
// each is http-server.ts started with this environment.

export interface Variant {
  readonly label: string;
  readonly env: Record<string, string>;
}

export const bare: Variant = { label: 'bare Fastify', env: { FRAMEWORK: 'fastify', ADAPTER: '0' } };

// Diagnostics, to find where the cost is: EXTRA=noprobes,attach (and the controls bare-fp,bare-none).
const diagnostics: Record<string, Variant> = {
  noprobes: {
    label: 'handoverFastify, probes: false',
    env: { FRAMEWORK: 'fastify', ADAPTER: '1', PROBES: '0' },
  },
  attach: {
    label: 'attachServer(fastify.server) only',
    env: { FRAMEWORK: 'fastify', ADAPTER: 'attach' },
  },
  'bare-fp': {
    label: 'bare Fastify, empty plugin unencapsulated',
    env: { FRAMEWORK: 'fastify', ADAPTER: '0', EMPTY_PLUGIN: 'fp' },
  },
  'bare-none': {
    label: 'bare Fastify, no plugin',
    env: { FRAMEWORK: 'fastify', ADAPTER: '0', EMPTY_PLUGIN: 'none' },
  },
};

/**
 * Bare Fastify first, then Fastify with `handoverFastify`, then the diagnostics named in
 * `EXTRA`, then, with `BEFORE=<another checkout, built>`, that build's plugin.
 */
export function fastifyVariants(env: NodeJS.ProcessEnv = process.env): Variant[] {
  const variants: Variant[] = [
    bare,
    { label: 'handoverFastify', env: { FRAMEWORK: 'fastify', ADAPTER: '1' } },
  ];
  const extra = new Set((env.EXTRA ?? '').split(',').filter(Boolean));
  for (const [name, variant] of Object.entries(diagnostics)) {
    if (extra.has(name)) variants.push(variant);
  }
  if (env.BEFORE) {
    variants.push({
      label: 'handoverFastify, other build (BEFORE)',
      env: { FRAMEWORK: 'fastify', ADAPTER: '1', HANDOVER_ROOT: env.BEFORE },
    });
  }
  return variants;
}
