import { HandoverOptionError } from '@handover/core';
import { attachServer, createEndpoints, type HttpAnswer } from '@handover/http';
import type { FastifyInstance, FastifyPluginCallback, HTTPMethods } from 'fastify';
import { fastifyPlugin } from 'fastify-plugin';
import type { HandoverFastifyOptions } from './options.js';

// Probe paths answer every method: the endpoints reply 405 with `Allow` themselves.
const methods: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

function expectHttp1(fastify: FastifyInstance): void {
  if ((fastify.initialConfig as { http2?: boolean }).http2 === true) {
    throw new HandoverOptionError(
      'HANDOVER_E_INVALID_OPTION',
      'Expected a Fastify instance serving HTTP/1.1, got one created with `http2: true`',
    );
  }
}

const plugin: FastifyPluginCallback<HandoverFastifyOptions> = (fastify, options, done) => {
  // avvio does not catch a throw from a callback plugin: it would crash the process.
  try {
    register(fastify, options);
  } catch (error) {
    done(error as Error);
    return;
  }
  done();
};

function register(fastify: FastifyInstance, options: HandoverFastifyOptions): void {
  expectHttp1(fastify);
  const { worker, probes, paths, drain, metrics, metricsPath, ...serverOptions } = options;
  // Endpoints first: their options are checked before the server is attached to the worker.
  const endpoints =
    probes === false ? undefined : createEndpoints(worker, { paths, drain, metrics, metricsPath });
  // The worker's teardown closes Fastify: its `onClose` hooks (where apps close their pools)
  // run after the work in flight of every port (HTTP requests, NATS tasks, JetStream jobs), and
  // `return503OnClosing` never answers a request the worker could still serve.
  let tearingDown = false;
  let beginTeardown!: () => void;
  const teardownBegun = new Promise<void>((resolve) => {
    beginTeardown = resolve;
  });
  void worker.stopped.then(() => beginTeardown());
  const port = attachServer(worker, fastify.server, {
    ...serverOptions,
    onTeardown: () => {
      tearingDown = true;
      beginTeardown();
      return fastify.close();
    },
  });
  for (const url of endpoints?.paths ?? []) {
    fastify.route({
      method: methods,
      url,
      logLevel: 'warn',
      handler: async (request, reply) => {
        const answer = (await endpoints?.answer(request.raw)) as HttpAnswer;
        return reply.code(answer.status).headers(answer.headers).send(answer.body);
      },
    });
  }
  // `fastify.close()` called directly (not by the worker): close gracefully from now on, drain
  // the worker too, and hold Fastify's close (and so its `onClose` hooks) until the worker's
  // work in flight has settled. Fastify answers 503 from here on (`return503OnClosing`).
  fastify.addHook('preClose', async () => {
    if (tearingDown) return;
    if (!port.closing) {
      port.beginClose();
      void worker.drain('fastify-close');
    }
    await teardownBegun;
  });
}

/**
 * The Handover plugin for Fastify 5: registers the probe routes (and the preStop drain
 * endpoint when `drain` is set) and attaches `fastify.server` to the worker. Every request
 * counts as in-flight work; during the drain delay requests are served (with
 * `Connection: close`); then the server stops accepting, idle keep-alive connections close at
 * once (no wait for the 72 s `keepAliveTimeout`) and busy ones after their response. Once the
 * work in flight of every port (HTTP requests, NATS tasks, JetStream jobs) has settled, the
 * worker closes Fastify: your `onClose` hooks run then, never under a task still running.
 * Register it before `listen()`, and call `worker.start()` after.
 *
 * @throws `HANDOVER_E_INVALID_OPTION` for a bad option (through `register`/`ready`).
 *
 * @example
 * ```ts
 * await app.register(handoverFastify, { worker });
 * await app.listen({ port: 3000 });
 * await worker.start();
 * ```
 */
export const handoverFastify = fastifyPlugin(plugin, {
  fastify: '5.x',
  name: '@handover/fastify',
});
