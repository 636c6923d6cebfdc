/** Option validation: one message per field, checked in the constructor and in each call. */
import { describe, expect, it } from 'vitest';
import { kDefaultPoolOptions, Pool } from '../dist/src/pool/index.js';

describe('Pool options', () => {
  it.each([
    [{ workers: 0 }, TypeError, 'options.workers must be a positive integer'],
    [{ workers: 1.5 }, TypeError, 'options.workers must be a positive integer'],
    [{ backend: 'gpu' }, TypeError, "options.backend must be 'threads' or 'processes'"],
    [{ name: '' }, TypeError, 'options.name must be a non-empty string'],
    [{ definitions: {} }, TypeError, 'options.definitions must be a DefinitionLookup (lookup(name) and cwd)'],
    [{ cwd: 3 }, TypeError, 'options.cwd must be a string'],
    [{ onOutput: 'stdout' }, TypeError, 'options.onOutput must be a function'],
    [{ onProgress: true }, TypeError, 'options.onProgress must be a function'],
    [{ progressAfter: -2 }, TypeError, 'options.progressAfter must be a number of seconds >= 0, or -1 for never'],
    [{ resourceLimits: 64 }, TypeError, 'options.resourceLimits must be an object'],
    [{ resourceLimits: { heapMb: 1 } }, TypeError, 'options.resourceLimits.heapMb is not a resource limit (use maxOldGenerationSizeMb, maxYoungGenerationSizeMb, codeRangeSizeMb, stackSizeMb)'],
    [{ resourceLimits: { maxOldGenerationSizeMb: -1 } }, TypeError, 'options.resourceLimits.maxOldGenerationSizeMb must be a positive integer'],
    [{ backend: 'processes', resourceLimits: { stackSizeMb: 4 } }, RangeError, "{ backend: 'processes' } does not support resourceLimits.stackSizeMb; use maxOldGenerationSizeMb"],
    [{ execArgv: '--expose-gc' }, TypeError, 'options.execArgv must be an array of strings'],
    [{ env: { A: 1 } }, TypeError, 'options.env must be an object of strings'],
    [{ interruptible: 'yes' }, TypeError, 'options.interruptible must be a boolean'],
    [{ context: {} }, TypeError, 'options.context must be a ProcessContext (from currentContext())'],
  ])('%j → %o: %s', (options, type, message) => {
    expect(() => new Pool(options as never)).toThrow(type);
    expect(() => new Pool(options as never)).toThrow(message);
    try {
      new Pool(options as never);
    } catch (err) {
      expect((err as Error).message).toBe(message);
    }
  });

  it('defaults sit in one object: cores, threads, progress after 2 s', () => {
    expect(kDefaultPoolOptions).toMatchObject({ backend: 'threads', progressAfter: 2, name: 'pool', interruptible: true });
    expect(kDefaultPoolOptions.workers).toBeGreaterThanOrEqual(1);
  });
});

describe('call options and arguments', () => {
  const pool = new Pool({ workers: 1, onOutput: () => undefined });

  it.each([
    [{ chunksize: 0 }, 'options.chunksize must be a positive integer'],
    [{ signal: {} }, 'options.signal must be an AbortSignal'],
    [{ transfer: 1 }, 'options.transfer must be a boolean'],
    [{ progressAfter: 'soon' }, 'options.progressAfter must be a number of seconds >= 0, or -1 for never'],
  ])('%j → %s', async (options, message) => {
    await expect(pool.map((x: number) => x, [1], options as never)).rejects.toThrow(message);
  });

  it('checks the function and the items', async () => {
    await expect(pool.map(42 as never, [1])).rejects.toThrow('pool.map(fn, …) needs a function as its first argument');
    await expect(pool.map((x: number) => x, 5 as never)).rejects.toThrow(
      'pool.map(fn, items) needs an iterable of items (an array, a typed array, a Set, a generator …)',
    );
    await expect(pool.starmap((x: number) => x, [[1], 2] as never)).rejects.toThrow(
      'pool.starmap(fn, items) needs each item to be an array of arguments; item #1 is not',
    );
    await expect(pool.resize(0)).rejects.toThrow('workers must be a positive integer');
    await pool.close();
  });
});
