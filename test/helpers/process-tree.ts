/**
 * Processes on Linux, read from /proc: the descendants of a process (children, grandchildren…),
 * whether a pid is still a live process, and waiting for processes to be gone. Tests use it to
 * prove that nothing a kernel, a pool or a rank started outlives it.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly state: string;
  readonly startTime: number;
}

function readStat(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may contain spaces and parentheses itself.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: rest[0], ppid: Number(rest[1]), pgid: Number(rest[2]), startTime: Number(rest[19]) };
}

function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = readStat(Number(name));
    if (info) out.push(info);
  }
  return out;
}

/** A process, identified by pid and start time so a reused pid is not mistaken for it. */
export interface ProcessId {
  readonly pid: number;
  readonly startTime: number;
  /** Its command line, for messages. */
  readonly command: string;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}

/** Every live descendant of `pid` (not `pid` itself), zombies excluded. */
export function descendants(pid: number): ProcessId[] {
  const procs = allProcesses();
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of procs) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcessId[] = [];
  const stack = [...(byParent.get(pid) ?? [])];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (p.state !== 'Z') out.push({ pid: p.pid, startTime: p.startTime, command: commandOf(p.pid) });
    stack.push(...(byParent.get(p.pid) ?? []));
  }
  return out;
}

/** Live processes in process group `pgid`. */
export function processGroup(pgid: number): ProcessId[] {
  return allProcesses()
    .filter((p) => p.pgid === pgid && p.state !== 'Z')
    .map((p) => ({ pid: p.pid, startTime: p.startTime, command: commandOf(p.pid) }));
}

/** Whether this very process (same pid and start time) is still running (zombies count as gone). */
export function isAlive(p: ProcessId | number): boolean {
  const id = typeof p === 'number' ? { pid: p, startTime: undefined } : p;
  const info = readStat(id.pid);
  if (!info || info.state === 'Z') return false;
  return id.startTime === undefined || info.startTime === id.startTime;
}

/**
 * Waits until none of `processes` is alive, polling, for at most `timeoutMs`; returns those still
 * alive then (empty when all are gone). The wait only absorbs the moment an exiting process
 * takes to be reaped; it is not a timing assertion.
 */
export async function survivors(processes: readonly (ProcessId | number)[], timeoutMs = 3000): Promise<(ProcessId | number)[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = processes.filter((p) => isAlive(p));
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Polls `find` until it returns at least `count` processes (e.g. the children a cell is
 * starting), or `timeoutMs` has passed; returns the last list found.
 */
export async function waitForProcesses(find: () => ProcessId[], count = 1, timeoutMs = 10_000): Promise<ProcessId[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found.length >= count || Date.now() >= deadline) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}
