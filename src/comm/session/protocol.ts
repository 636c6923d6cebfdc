/**
 * What an %mpirun session's host and its ranks say to each other about cells, on the channel
 * each backend already has (a worker's parentPort, a child's IPC channel, the mpi control
 * connection). Tagged like every other comm message (messages.ts).
 */
import type { Shipment } from '../../ship/index.js';
import type { SerializedError } from '../../util/remote-error.js';
import { kMessageTag } from '../messages.js';

export type ToSessionRank =
  /**
   * Run a cell: `inputs` are bound in the rank's scope first (--in values, --scatter chunks);
   * `outs` are the names whose values come back (--out, --gather); with `traceAs`, the rank
   * traces the cell's communication (--timeline) and sends the trace back under that name.
   */
  | {
      readonly [kMessageTag]: true;
      readonly type: 'session-cell';
      readonly id: number;
      readonly shipment: Shipment;
      readonly inputs: Record<string, unknown>;
      readonly outs: readonly string[];
      readonly traceAs?: string;
    }
  /** Stop waiting for cell `id` (another rank failed, an interrupt, a deadlock). */
  | { readonly [kMessageTag]: true; readonly type: 'session-cancel'; readonly id: number };

export type FromSessionRank =
  | { readonly [kMessageTag]: true; readonly type: 'session-ready' }
  | { readonly [kMessageTag]: true; readonly type: 'session-done'; readonly id: number; readonly values: Record<string, unknown>; readonly missing: readonly string[] }
  | { readonly [kMessageTag]: true; readonly type: 'session-failed'; readonly id: number; readonly error: SerializedError }
  | { readonly [kMessageTag]: true; readonly type: 'session-stopped'; readonly id: number };

/**
 * Written to stdout and stderr by a rank after each cell: the host knows the cell's output on
 * that stream is complete when it reads this line (output and messages travel separately).
 */
export function cellEndMarker(id: number): string {
  return `\u0000tslab-session-cell-end ${id}\u0000`;
}

export function isSessionMessage(m: unknown): m is ToSessionRank | FromSessionRank {
  return typeof m === 'object' && m !== null && (m as Record<string, unknown>)[kMessageTag] === true && String((m as { type?: unknown }).type).startsWith('session-');
}

export function sessionMessage<T extends (ToSessionRank | FromSessionRank)['type']>(
  type: T,
  body: Omit<Extract<ToSessionRank | FromSessionRank, { type: T }>, typeof kMessageTag | 'type'>,
): Extract<ToSessionRank | FromSessionRank, { type: T }> {
  return { [kMessageTag]: true, type, ...body } as unknown as Extract<ToSessionRank | FromSessionRank, { type: T }>;
}
