/** %mpirun sessions: ranks that stay up between cells (see README.md in src/comm). */
export { RankSession, type SessionCell, type SessionOptions, type SessionStatus } from './session.js';
export { SessionError, SessionErrors, restartHint } from './errors.js';
export { chunkBounds, gatherParts, isSplittable, scatterChunks, type Splittable } from './data.js';
