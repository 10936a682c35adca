export { adapterCounters } from './collect.js';
export { type HandoverMetrics, type HandoverMetricsOptions, handoverMetrics } from './metrics.js';
