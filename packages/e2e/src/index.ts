export { type ComposeOverrides, serviceFromCompose } from './compose.js';
export {
  type ContainerRun,
  containerScript,
  logs,
  runOnce,
  startContainer,
  stopContainer,
} from './containers.js';
export {
  checkDocker,
  type DockerCheck,
  DockerError,
  docker,
  dockerClient,
  dockerHost,
  dockerJson,
  dockerOutput,
} from './docker.js';
export {
  deployExpress,
  type ExpressDeployment,
  type ExpressImages,
  expressImages,
  haproxyEvents,
  haproxyImage,
  httpPhaseReport,
  readExpressStack,
  removeExpress,
} from './express-haproxy.js';
export {
  type HttpLoadOptions,
  type HttpLoadSummary,
  type HttpProbe,
  type MethodCounts,
  probeHttp,
  startHttpLoad,
} from './http-load.js';
export {
  ensureImage,
  hostImage,
  natsImage,
  nodeImage,
  pruneImages,
  versionedImage,
} from './images.js';
export {
  inspectNats,
  type NatsLoad,
  type NatsLoadOptions,
  type NatsLoadSummary,
  type NatsSnapshot,
  type RegistryEntry,
  startNatsLoad,
  type WorkerEvent,
} from './nats-load.js';
export { e2eDir, e2ePath, repoRoot } from './paths.js';
export {
  type Deployment,
  deployQueueWorker,
  type QueueWorkerImages,
  queueWorkerImages,
  readStack,
  registryMatches,
  removeQueueWorker,
} from './queue-worker.js';
export { fewestReady, phaseReport, versionLine } from './report.js';
export { importRootfs, type RootfsSpec, rootfsHash, sharedLibraries } from './rootfs.js';
export {
  type EndedTask,
  type Phase,
  type PhaseOf,
  type RunningLoad,
  runPhase,
  runPhaseWith,
  runPrefix,
  type Step,
  teardown,
} from './scenario.js';
export { deployStack, removeStack, waitHealthy, writeOverride } from './stack.js';
export {
  type ContainerExit,
  createNetwork,
  createService,
  removeNetwork,
  removeServices,
  runningContainers,
  type ServiceSpec,
  scaleService,
  serviceArgs,
  serviceTasks,
  type Task,
  type TaskContainer,
  type UpdatePolicy,
  updateService,
  updateStatus,
  watchExits,
} from './swarm.js';
export { until } from './until.js';
export { runtimeStage, treeHash, workspaceImage } from './workspace-image.js';
