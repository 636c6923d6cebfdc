/**
 * Jupyter's own kernel conformance suite (Debian's jupyter_kernel_test) against this kernel,
 * started from its installed kernelspec: kernel_info, stdout/stderr, errors, execute results,
 * display data, completion, is_complete (complete/incomplete/invalid), history (tail, range,
 * search), inspect — every message validated against the messaging spec's schemas. The Python
 * side is test/fixtures/jupyter/conformance.py.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJupyterEnv, kKernelName, kPython, kRepoRoot, type JupyterEnv } from './helpers/jupyter-env.js';

let env: JupyterEnv;
beforeAll(() => {
  env = createJupyterEnv();
});
afterAll(() => env?.cleanup());

/** Only what this kernel does not offer may be skipped. */
const kSkippable = new Set(['test_pager', 'test_clear_output']);

describe('jupyter_kernel_test', () => {
  it('passes the conformance suite (pager and clear_output aside: the kernel has neither)', () => {
    const r = spawnSync(kPython, ['-m', 'unittest', '-v', 'conformance'], {
      cwd: join(kRepoRoot, 'test', 'fixtures', 'jupyter'),
      env: { ...env.env, KERNEL_NAME: kKernelName },
      encoding: 'utf8',
      timeout: 180_000,
    });
    const report = r.stderr;
    const results = new Map([...report.matchAll(/^(test_\w+) \([\w.]+\) \.\.\. (ok|skipped.*|FAIL|ERROR)$/gm)].map((m) => [m[1], m[2]]));
    expect(results.size, report).toBeGreaterThanOrEqual(12);
    for (const [name, result] of results) {
      if (kSkippable.has(name) && result.startsWith('skipped')) continue;
      expect(result, `${name}\n${report}`).toBe('ok');
    }
    expect(r.status, report).toBe(0);
  }, 200_000);
});
