/** What an %mpirun session tells its user: each message names the problem and the way out. */
import type { LaunchBackend } from '../launcher.js';

/** How to start a session like this one again, as the user would type it. */
export function restartHint(np: number, backend: LaunchBackend): string {
  return `%mpirun --session -np ${np}${backend === 'threads' ? '' : ` --backend ${backend}`}`;
}

export class SessionError extends Error {
  override readonly name = 'SessionError';
  /** The ranks were started again: every name the session's cells declared is gone. */
  restarted = false;
}

export const SessionErrors = {
  Closed(np: number, backend: LaunchBackend) {
    return new SessionError(`the %mpirun session is closed; start a new one with ${restartHint(np, backend)}`);
  },
  Dead(rank: number, how: string, np: number, backend: LaunchBackend) {
    return new SessionError(`rank ${rank} of the %mpirun session died (${how}), so the session is closed and its state is gone; start a new one with ${restartHint(np, backend)}`);
  },
  Missing(names: readonly string[]) {
    const list = names.join(', ');
    return new SessionError(`the ranks have no ${list}: declare ${names.length > 1 ? 'them' : 'it'} at the top level of a session cell, or send ${names.length > 1 ? 'them' : 'it'} with --in ${names[0]}`);
  },
  Restarted(ranks: readonly number[], np: number) {
    const who = ranks.length === 1 ? `rank ${ranks[0]} did not stop` : `ranks ${ranks.join(', ')} did not stop`;
    const err = new SessionError(`the cell was interrupted, but ${who} (busy in a loop), so the session was restarted with ${np} new ranks`);
    err.restarted = true;
    return err;
  },
};
