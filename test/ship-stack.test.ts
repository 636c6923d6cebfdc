/** Stack frames of shipped code are rewritten to where the code came from. */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadShipment, mapShippedStack, ship } from '../dist/src/ship/index.js';
import { NotebookFixture } from './fixtures/ship/notebook-fixture.js';
import { runInWorker } from './fixtures/ship/run-in-worker.js';

const fixtureDir = path.join(__dirname, 'fixtures', 'ship');

function stackOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return mapShippedStack(String((err as Error).stack));
  }
  throw new Error('expected a throw');
}

describe('mapShippedStack', () => {
  it('maps frames to file:line:column of the cell that defined each function', () => {
    const nb = new NotebookFixture(fixtureDir);
    const cell1 = nb.run('function check(x: number) {\n  if (x < 0) {\n    throw new RangeError("negative: " + x);\n  }\n  return x;\n}');
    const cell2 = nb.run('function task(x: number) {\n  return check(x) * 2;\n}');
    const fns = loadShipment(structuredClone(ship({ task: nb.exports.task as Function }, { definitions: nb })));
    const stack = stackOf(() => fns.task?.(-1));
    const throwAt = nb.position(cell1, 'new RangeError');
    const callAt = nb.position(cell2, 'check(x)');
    expect(stack).toContain(`check (${cell1.file}:${throwAt.line}:${throwAt.column + 1})`);
    expect(stack).toContain(`${cell2.file}:${callAt.line}:${callAt.column + 1}`);
    expect(stack).not.toContain('tslab-ship-');
  });

  it('maps columns on the first line of a function too', () => {
    const nb = new NotebookFixture(fixtureDir);
    const cell = nb.run('const boom = (x: number) => { throw new Error("x=" + x); };');
    const fns = loadShipment(structuredClone(ship({ boom: nb.exports.boom as Function }, { definitions: nb })));
    const at = nb.position(cell, 'new Error');
    expect(stackOf(() => fns.boom?.(1))).toContain(`${cell.file}:${at.line}:${at.column + 1}`);
  });

  it('names functions of unknown origin shipped:<name>, with lines relative to the function', () => {
    function local(x: number) {
      if (x) throw new Error('local');
      return x;
    }
    const fns = loadShipment(structuredClone(ship({ local })));
    expect(stackOf(() => fns.local?.(1))).toMatch(/shipped:local:2:\d+/);
  });

  it('maps frames inside a worker thread, where the shipment was loaded', async () => {
    const nb = new NotebookFixture(fixtureDir);
    const cell = nb.run('function fail(x: number) {\n  throw new Error("in worker " + x);\n}');
    const outcome = await runInWorker(ship({ fail: nb.exports.fail as Function }, { definitions: nb }), 'fail', [3]);
    const at = nb.position(cell, 'new Error');
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toBe('in worker 3');
    expect(outcome.stack).toContain(`${cell.file}:${at.line}:${at.column + 1}`);
  });

  it('leaves frames of code that was not shipped alone', () => {
    const stack = 'Error: x\n    at f (/some/file.js:3:4)\n    at tslab-ship-0000.js:1:1';
    expect(mapShippedStack(stack)).toBe(stack);
  });
});
