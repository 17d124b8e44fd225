/** The engine's public surface: tensors, autodiff, ops, gradient tools, optimizers, backends. */
export * from './tensor.js';
export { backward, noGrad, isGradEnabled, type BackwardOptions } from './autograd.js';
export * from './ops/index.js';
export { deriveSeed, Rng } from './rng.js';
export { ActivationTaps } from './grad/hooks.js';
export { perExampleGradients, PerExampleGrads } from './grad/per-example.js';
export { directionalDerivative, type DirectionalOptions } from './grad/directional.js';
export { snapshotParameters, restoreParameters, type ParameterSnapshot } from './grad/snapshot.js';
export { gradientOf, gradNorm, addScaled, stepAlong, type GradMap, type ReadonlyGradMap } from './grad/grad-map.js';
export { AdamW, type AdamWConfig } from './optim/adamw.js';
export { Sgd, type SgdConfig } from './optim/sgd.js';
export { clipGradNorm, globalGradNorm } from './optim/clip.js';
export { learningRateAt, type ScheduleConfig, type ScheduleKind } from './optim/schedule.js';
export type { Optimizer } from './optim/optimizer.js';
export {
  getBackend,
  setBackend,
  withBackend,
  availableBackends,
  tryBackend,
  setThreads,
  type BackendName,
} from './backends/select.js';
export { gradcheck, type GradcheckOptions, type GradcheckReport } from './grad/gradcheck.js';
