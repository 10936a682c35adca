const { createWorker } = require('@handover/core');
const { natsBroker } = require('@handover/nats');

async function main() {
  const worker = createWorker({ service: 'orders' });
  worker.use(natsBroker({ handler: async (task) => ({ echo: task }) }));
  await worker.start();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
