import { createWorker } from '@handover/core';
import { natsBroker } from '@handover/nats';

const worker = createWorker({ service: 'orders' });
worker.use(natsBroker({ handler: async (task) => ({ echo: task }) }));
await worker.start();
