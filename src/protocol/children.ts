/**
 * The kernel's child processes at shutdown. A cell may start processes (child_process.spawn,
 * a pool's workers, a server); when the kernel shuts down or restarts, nothing it started may
 * outlive it, as ipykernel does with its children: every descendant is sent SIGTERM, and
 * SIGKILL if it is still there after a grace period. Descendants are read from /proc (Linux);
 * elsewhere there is nothing to read and nothing is done.
 */
import { readdirSync, readFileSync } from 'node:fs';

const kPollMs = 20;

/** Pids of every live descendant of `pid` (children, grandchildren…), read from /proc. */
export function descendantPids(pid = process.pid): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const byParent = new Map<number, number[]>();
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // it ended meanwhile
    }
    // "pid (comm) state ppid …": comm may contain spaces and parentheses.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z') continue;
    const parent = Number(ppid);
    byParent.set(parent, [...(byParent.get(parent) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const stack = [...(byParent.get(pid) ?? [])];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(byParent.get(p) ?? []));
  }
  return out;
}

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

function alive(pids: readonly number[]): number[] {
  const live = new Set(descendantPids());
  return pids.filter((p) => live.has(p));
}

/**
 * Ends every descendant of this process: SIGTERM, then SIGKILL for those still there after
 * `graceMs`. Resolves when they are gone (or were sent SIGKILL).
 */
export async function terminateDescendants(graceMs = 1000): Promise<void> {
  // All are collected first: once a parent dies, its children are re-parented and lost to us.
  const pids = descendantPids();
  if (pids.length === 0) return;
  signal(pids, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = alive(pids);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, kPollMs));
    left = alive(pids);
  }
  signal([...new Set([...left, ...descendantPids()])], 'SIGKILL');
}

/** Sends SIGKILL to every descendant now (the last resort when the kernel must exit at once). */
export function killDescendants(): void {
  signal(descendantPids(), 'SIGKILL');
}
