// One marker for errors that print as one line (src/util/user-facing.ts), read by the kernel's
// traceback instead of a list of other layers' error names.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// Through Node's require, as the kernel loads them: one instance of each module.
const load = createRequire(import.meta.url);
const { DeadlockError, RankFailures } = load('../dist/src/comm/report.js');
const { SourceRegistry } = load('../dist/src/engine/sources.js');
const { KeyboardInterrupt } = load('../dist/src/kernel/errors.js');
const { formatError } = load('../dist/src/kernel/traceback.js');
const { UsageError: MagicsUsageError } = load('../dist/src/magics/types.js');
const { ParallelCompileError } = load('../dist/src/parallel/errors.js');
const { CancelledError, PoolAbortError, PoolInterruptedError } = load('../dist/src/pool/errors.js');
const { isUserFacing, markUserFacing, UsageError, UserFacingError } = load('../dist/src/util/user-facing.js');

const format = (err: unknown) => formatError(err, new SourceRegistry(), '/nowhere');

describe('user-facing errors', () => {
  it('print every marked class as one line, whatever its layer', () => {
    const errors: Error[] = [
      new UsageError('bad flag'),
      new KeyboardInterrupt(),
      new PoolInterruptedError('interrupted'),
      new PoolAbortError('aborted'),
      new CancelledError('cancelled'),
      new DeadlockError(5, [{ rank: 0, doing: 'waits in Recv from rank 1' }]),
      new RankFailures([{ rank: 1, error: { name: 'Error', message: 'boom', stack: 'Error: boom\n    at f (x.js:1:1)' } }]),
    ];
    for (const err of errors) {
      expect(isUserFacing(err), err.name).toBe(true);
      const content = format(err);
      expect(content.traceback, err.name).toHaveLength(1);
      expect(content.traceback[0]).toContain(err.message.split('\n')[0]);
    }
    expect(ParallelCompileError.prototype instanceof UserFacingError).toBe(true);
  });

  it('has one UsageError, the magics re-export it', () => {
    expect(MagicsUsageError).toBe(UsageError);
    expect(new UsageError('x').name).toBe('UsageError');
  });

  it('goes by the mark, not the name: an ordinary error keeps its stack even when named like one', () => {
    const plain = new Error('not usage');
    plain.name = 'UsageError';
    expect(isUserFacing(plain)).toBe(false);
    expect(format(plain).traceback.length).toBeGreaterThan(1);
    class Marked extends Error {}
    markUserFacing(Marked);
    class Sub extends Marked {}
    expect(isUserFacing(new Sub('inherits'))).toBe(true);
    expect(isUserFacing('a string')).toBe(false);
  });
});
