/**
 * tslab-parallel as a library: what cells have in scope, and what any Node program can import.
 */
export { display, plotly, table, rich, setPlotlyEmbedding, kToMimeBundle } from './display/index.js';
export type { PlotlyFigure, MimeBundle, DisplayHandle, Displayable } from './display/index.js';
export { sleep } from './util/sleep.js';
export { TimeitResult } from './magics/timeit.js';
export * from './trace/index.js';
export * from './pool/index.js';
export {
  prange, shared, numThreads, threadId, setNumThreads, parallelFor, parallelReduce, shutdownParallel,
  __parallelRuntime, installSerialRuntime, ParallelCompileError, compileParallelCell,
} from './parallel/index.js';
export type { TypedArray, LoopSpec, CompileMessage } from './parallel/index.js';
export * from './comm/index.js';
export { onKernelInterrupt } from './util/interrupt.js';
export { ProcessContext, currentContext } from './util/process-context.js';
