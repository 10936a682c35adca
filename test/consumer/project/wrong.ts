import { createWorker } from '@handover/core';

createWorker({ service: 42 });
