/** src/trace — recording where parallel time goes (%%timeline, %%mpirun --timeline, %scaling). */
export { Timeline } from './timeline.js';
export { startTrace, activeTrace, TraceRecorder } from './recorder.js';
export { traceNow } from './clock.js';
export { summarise, type TraceSummary, type RowSummary } from './summary.js';
export type * from './records.js';
export { ScalingResult, type ScalingRow } from './scaling.js';
export { fitSerialFraction, amdahlSpeedup, type ScalingPoint } from './amdahl.js';
export { machineCeiling } from './ceiling.js';
export { traceRank, type RankTrace, type RawCommEvent } from './comm-rank.js';
export { CommTimeline, type MessagePair, type RankRow } from './comm-timeline.js';
