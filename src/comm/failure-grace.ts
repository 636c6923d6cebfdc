/**
 * After a rank's first failure, the others get a moment to fail too (SPMD ranks tend to fail
 * together), so one report names them all. The wait ends when every rank has failed, finished
 * or stays blocked (asleep in communication, it cannot fail then), and never lasts beyond
 * kFailureGraceMs. Used by one-off worlds (launcher.ts) and session cells (session/session.ts).
 */
import type { RankState } from './host.js';

/** Longest wait for other ranks' failures after the first: all ranks stop well within a second. */
export const kFailureGraceMs = 500;
export const kFailurePollMs = 20;
/**
 * Asleep this long without waking counts as blocked. A rank that shows asleep may already have
 * its message (sent before its sender failed) and not have woken to it yet on a loaded machine;
 * it then fails a moment later like the others.
 */
const kBlockedMs = 100;

/**
 * Polls until `done(rank)` or a lasting block holds for every rank, or the grace time is up;
 * then calls `report` (once), unless `cancelled()` says the wait no longer matters.
 */
export function awaitOtherFailures(states: () => readonly RankState[], done: (rank: number) => boolean, report: () => void, cancelled: () => boolean = () => false): void {
  const deadline = Date.now() + kFailureGraceMs;
  const asleepSince = new Map<number, { wakes: number; since: number }>();
  const staysBlocked = (s: RankState, rank: number, now: number): boolean => {
    const seen = asleepSince.get(rank);
    if (!s.blocked) asleepSince.delete(rank);
    else if (!seen || seen.wakes !== s.wakes) asleepSince.set(rank, { wakes: s.wakes, since: now });
    else return now - seen.since >= kBlockedMs;
    return false;
  };
  const look = () => {
    if (cancelled()) return;
    const now = Date.now();
    // Every rank is looked at (no short cut), so each one's sleep is timed from when it began.
    const quiet = states().map((s, rank) => staysBlocked(s, rank, now) || done(rank)).every(Boolean);
    if (quiet || now >= deadline) report();
    else setTimeout(look, kFailurePollMs);
  };
  setTimeout(look, kFailurePollMs);
}
