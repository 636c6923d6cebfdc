/**
 * Every process of an mpirun run on this host. mpirun is started as the leader of a new session
 * (detached), and Open MPI puts each rank in a process group of its own but leaves it in that
 * session, so the session id finds mpirun, its daemons, the ranks and whatever they started —
 * which killing mpirun's process group would not.
 */
import * as fs from 'node:fs';

/** Pids of the live processes whose session id is `sid` (zombies left out). */
export function sessionMembers(sid: number): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command name (in parentheses, which may hold anything): state ppid pgrp session ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && Number(fields[3]) === sid) pids.push(Number(name));
  }
  return pids;
}

/** SIGKILLs every process of the session; returns how many there were. */
export function killSession(sid: number): number {
  const pids = sessionMembers(sid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids.length;
}
