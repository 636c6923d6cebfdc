// The benchmark report page (bench/report.ts): built from bench/peers comparisons, it must draw
// every ratio against its target offline and list every figure, peers missing included.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compare } from '../dist/bench/peers/compare.js';
import { probeHost } from '../dist/bench/quiet.js';
import { writeReport } from '../dist/bench/report.js';
import { isLocalUrl, launchChromium } from './helpers/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'tsp-bench-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bench(name: string, comparisons: unknown[]): void {
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ name, date: '2026-12-03T00:00:00Z', machine: { cpus: 2 }, comparisons }));
}

describe('bench report', () => {
  it('draws every ratio against its target and tables every figure, offline', async () => {
    bench('comm', [
      compare({ id: 'a', title: 'round trip 8 B', unit: 'µs', better: 'lower', ours: [2, 3], peer: { name: 'mpi4py', samples: [1, 2] }, target: { maxRatio: 1.3, text: '≤ 1.3x mpi4py' } }),
      compare({ id: 'b', title: 'bandwidth 16 MiB', unit: 'GB/s', better: 'higher', ours: [4, 5], peer: { name: 'mpi4py', samples: [4, 4] }, target: { maxRatio: 1, text: '≥ mpi4py' } }),
    ]);
    bench('parallel', [compare({ id: 'c', title: 'Simpson 1e8, 2 threads', unit: 's', better: 'lower', ours: [0.5], peerMissing: 'python3-numba is not installed', target: { maxRatio: 1, text: '≤ 1.0x Numba' } })]);
    writeFileSync(join(dir, 'not-a-bench.json'), JSON.stringify({ something: 'else' }));
    const probe = (best: number, median: number, quiet: boolean) => ({ date: '2026-12-03T00:00:00Z', bestMicros: best, medianMicros: median, stealPercent: 0, loadAverage: [0.1, 0.2, 0.3], quiet });
    writeFileSync(join(dir, 'host.json'), JSON.stringify({ before: probe(0.25, 0.3, true), after: probe(0.3, 2.9, false) }));

    const out = writeReport(dir)!;
    expect(out).toBe(join(dir, 'report.html'));
    const md = readFileSync(join(dir, 'report.md'), 'utf8').trim().split('\n');
    expect(md).toHaveLength(2 + 3 + 3);
    expect(md[2]).toBe('| comm | round trip 8 B | 2.00 (2.50) µs | mpi4py: 1.00 (1.50) µs | 2.00x / 1.67x | ≤ 1.3x mpi4py | NOT MET |');
    // Below the table: whether the machine was quiet before and after the run.
    expect(md[6]).toBe('- Host before: two-thread ping-pong 0.25 µs best, 0.30 µs median, steal 0.0%, load 0.10 0.20 0.30: quiet');
    expect(md[7]).toMatch(/^- Host after: two-thread ping-pong 0\.30 µs best, 2\.90 µs median, .*: BUSY/);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('1 of 2</strong> judged targets met');
    expect(html).toContain('Host after: two-thread ping-pong 0.30 µs best, 2.90 µs median');

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const external: string[] = [];
      page.on('request', (r) => {
        if (!isLocalUrl(r.url())) external.push(r.url());
      });
      await page.goto(pathToFileURL(out).href);
      await page.waitForSelector('#ratios svg .bars path');
      // Two comparisons have a peer (two bars); the one without a peer is only in the table.
      expect(await page.locator('#ratios .bars .point').count()).toBe(2);
      const rows = await page.locator('table tr').allInnerTexts();
      expect(rows).toHaveLength(4);
      expect(rows[1]).toContain('NOT MET'); // 2 µs against 1 µs: 2x, over 1.3x
      expect(rows[2]).toMatch(/met$/);
      expect(rows[3]).toContain('no peer: python3-numba is not installed');
      expect(external).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('probes the host with two real threads and judges it by the spread of its samples', async () => {
    const p = await probeHost();
    expect(p.bestMicros).toBeGreaterThan(0);
    expect(p.medianMicros).toBeGreaterThanOrEqual(p.bestMicros);
    expect(p.quiet).toBe(p.medianMicros <= 1.5 * p.bestMicros);
    expect(p.loadAverage).toHaveLength(3);
  });
});
