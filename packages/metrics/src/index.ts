export { type HandoverMetrics, type HandoverMetricsOptions, handoverMetrics } from './metrics.js';
