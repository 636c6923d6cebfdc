/**
 * The same measurements with Python's multiprocessing.Pool, run in the same session when
 * python3 is available (DESIGN: report ratios against a baseline measured in the same run).
 */
import { spawnSync } from 'node:child_process';

export interface PythonFigures {
  readonly version: string;
  readonly perTaskChunk1Us: number;
  readonly perTaskDefaultUs: number;
  readonly startCloseMs: number;
  readonly sleepCaseS: number;
}

const kScript = String.raw`
import json, statistics, sys, time
from multiprocessing import Pool

def f(x):
    return x

def nap(x):
    time.sleep(0.1)
    return x

if __name__ == '__main__':
    n = 100000
    out = {'version': sys.version.split()[0]}
    with Pool(2) as p:
        p.map(f, range(1000))
        t = time.perf_counter(); p.map(f, range(n), chunksize=1); out['perTaskChunk1Us'] = (time.perf_counter() - t) / n * 1e6
        runs = []
        for _ in range(7):
            t = time.perf_counter(); p.map(f, range(n)); runs.append(time.perf_counter() - t)
        out['perTaskDefaultUs'] = statistics.median(runs) / n * 1e6
    runs = []
    for _ in range(7):
        t = time.perf_counter(); p = Pool(2); p.close(); p.join(); runs.append(time.perf_counter() - t)
    out['startCloseMs'] = statistics.median(runs) * 1e3
    with Pool(8) as p:
        p.map(f, range(8))
        t = time.perf_counter(); p.map(nap, range(33)); out['sleepCaseS'] = time.perf_counter() - t
    print(json.dumps(out))
`;

export function measurePython(): PythonFigures | undefined {
  const run = spawnSync('python3', ['-c', kScript], { encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) return undefined;
  try {
    return JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as PythonFigures;
  } catch {
    return undefined;
  }
}
