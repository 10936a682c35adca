// What docs/getting-started.md shows, under strict and exactOptionalPropertyTypes.
import { createWorker } from '@handover/core';
import { serve } from '@handover/express';
import { natsBroker, TaskError } from '@handover/nats';
import { createTaskClient, watchWorkers } from '@handover/nats/controller';
import { parseEntry } from '@handover/nats/wire';
import express from 'express';

interface Order {
  id: string;
  items: string[];
}

const worker = createWorker({ service: 'orders', version: process.env.VERSION });
worker.use(
  natsBroker({
    servers: process.env.NATS_URL,
    handler: async (order: Order, { signal }) => {
      if (order.items.length === 0) throw new TaskError(400, 'an order needs items');
      signal.throwIfAborted();
      return { placed: order.id };
    },
    jetstream: {
      stream: 'ORDERS',
      handler: async (job: { sku: string }, { seq }) => {
        void `${job.sku}-${seq}`;
      },
    },
  }),
);
const app = express();
app.get('/orders/:id', (req, res) => {
  res.json({ id: req.params.id });
});
export const started = serve(worker, app, { port: 0 }).then(() => worker.start());
export const controllers = [createTaskClient, watchWorkers, parseEntry] as const;
