/**
 * Seeded random input for fuzz tests: the same seed gives the same inputs, so a failure can be
 * replayed (the seed is in the test name; set FUZZ_SEED to try others).
 */
export const kFuzzSeed = Number(process.env.FUZZ_SEED ?? 20240521);

export class Random {
  #state: number;

  constructor(seed = kFuzzSeed) {
    this.#state = seed >>> 0;
  }

  /** mulberry32: a float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A string of `length` characters drawn from `alphabet` (default: anything, control and astral characters included). */
  string(length: number, alphabet?: string): string {
    if (alphabet) return Array.from({ length }, () => alphabet[this.int(0, alphabet.length - 1)]).join('');
    return Array.from({ length }, () => {
      const r = this.next();
      if (r < 0.6) return String.fromCharCode(this.int(0x20, 0x7e));
      if (r < 0.75) return String.fromCharCode(this.int(0, 0x1f));
      if (r < 0.9) return String.fromCharCode(this.int(0xa0, 0x2fff));
      return String.fromCodePoint(this.int(0x1f300, 0x1f6ff));
    }).join('');
  }

  bytes(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => this.int(0, 255)));
  }
}

/** Words that make magic lines look almost right: names, options, values, quotes. */
export const kMagicWords = [
  'time', 'timeit', 'env', 'lsmagic', 'sh', 'pool', 'parallel', 'mpirun', 'tiem', 'timit', 'x',
  '-n', '-r', '-p', '-q', '-o', '--number', '--repeat', '--precision', '--quiet', '--output', '--no-raise',
  '-np', '--threads', '--processes', '--backend', '--schedule', '--timeout', '--out', '--',
  '0', '1', '-1', '4', '1e9', '99999999999999999999', 'NaN', 'abc', '=', '-n=3', '--repeat=', '-n4',
  '"', "'", '"quoted value"', "'single'", '""', '?', '??', '%', '%%', '\\', '\t', '1 + 1', 'x =',
];
