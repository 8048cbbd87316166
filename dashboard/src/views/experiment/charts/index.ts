// The experiment page's charts, placed in its tabs by views/experiment. Each takes the page's
// trials (kept live by the page's feed) and draws at most once per animation frame.
export { OptimizationHistory } from './optimization-history';
export { LearningCurves } from './learning-curves';
export { ParallelCoordinates } from './parallel-coordinates';
export { Lineage } from './lineage';
