/**
 * The launcher's reports: many rank failures folded into one error (ipyparallel's
 * CompositeError: the first four, each with its rank, then "… N more"), and the deadlock
 * diagnosis of a run that stopped making progress.
 */
import { RemoteError, type SerializedError } from '../util/remote-error.js';
import { Errors } from './errors.js';
import { markUserFacing, UserFacingError } from '../util/user-facing.js';

export const kShownFailures = 4;

export interface RankFailure {
  readonly rank: number;
  readonly error: SerializedError;
}

/** Several ranks failed. Its stack is the first failure's, so cells map as for one failure. */
export class RankFailures extends RemoteError {
  /** Every failure, in the order they happened, each with its rank. */
  readonly failures: readonly RemoteError[];

  constructor(failures: readonly RankFailure[]) {
    const first = failures[0]!;
    super(first.error, `rank ${first.rank}`);
    this.name = 'RankFailures';
    this.failures = failures.map((f) => Errors.RankFailed(f.rank, f.error));
    const shown = failures.slice(0, kShownFailures).map((f) => `  [rank ${f.rank}] ${f.error.name}: ${f.error.message}`);
    const more = failures.length - kShownFailures;
    this.message = [`${failures.length} ranks failed:`, ...shown, ...(more > 0 ? [`  … ${more} more`] : [])].join('\n');
    const frames = (first.error.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
    this.stack = [`${this.name}: ${this.message}`, ...frames].join('\n');
  }
}
// One line, like ipyparallel's CompositeError summary: each rank's failure is in the message.
markUserFacing(RankFailures);

/** One failure as itself, several as RankFailures. */
export function failureReport(failures: readonly RankFailure[]): RemoteError {
  return failures.length === 1 ? Errors.RankFailed(failures[0]!.rank, failures[0]!.error) : new RankFailures(failures);
}

export interface RankActivity {
  readonly rank: number;
  /** 'waiting in recv(source=0, tag=7)', 'finished' or 'running'. */
  readonly doing: string;
}

/** No rank made progress for the timeout: says what each rank was waiting in. */
export class DeadlockError extends UserFacingError {
  override readonly name = 'DeadlockError';
  readonly ranks: readonly RankActivity[];
  readonly timeout: number;

  constructor(timeout: number, ranks: readonly RankActivity[]) {
    super(
      [
        `deadlock: no rank made progress for ${timeout} s, so all ranks were stopped`,
        ...ranks.map((r) => `  rank ${r.rank} ${r.doing}`),
        'Every blocking call needs its partner on another rank: check the sources, tags and order of sends and ' +
          'receives, and that every rank calls each collective (or raise the timeout if ranks wait longer on purpose).',
      ].join('\n'),
    );
    this.ranks = ranks;
    this.timeout = timeout;
  }
}
