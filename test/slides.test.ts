/**
 * `tslab-parallel slides` makes reveal.js decks that work offline: a deck opened from disk in
 * headless Chromium renders its plotly figures and requests nothing beyond the file system or
 * localhost. A screenshot of the figure's slide is kept in build/artifacts/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { externalResources } from '../dist/src/cli/slides.js';
import { isLocalUrl, launchChromium } from './helpers/browser.js';

const root = resolve(__dirname, '..');
const cli = join(root, 'dist', 'src', 'cli.js');
const artifacts = join(root, 'build', 'artifacts');

describe('offline slides', () => {
  let work: string;
  let deck: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tsp-slides-'));
    execFileSync(process.execPath, [cli, 'run', join(root, 'notebooks', '00-hello.ipynb'), '--output', join(work, 'executed')], { stdio: 'pipe' });
    execFileSync(process.execPath, [cli, 'slides', join(work, 'executed'), '--output', join(work, 'slides')], { stdio: 'pipe' });
    deck = join(work, 'slides', '00-hello.slides.html');
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('writes a deck and its assets beside it', () => {
    expect(readdirSync(join(work, 'slides')).sort()).toEqual(['00-hello.slides.html', 'assets']);
    expect(readdirSync(join(work, 'slides', 'assets')).sort()).toEqual(['jquery.min.js', 'mathjax-stub.js', 'require.js', 'reveal.js']);
  });

  it('finds external resources in HTML (the check the command applies to every deck)', () => {
    expect(externalResources('<script src="https://unpkg.com/x.js"></script><link rel="stylesheet" href="//cdn/x.css"><img src="a.png">'))
      .toEqual(['https://unpkg.com/x.js', '//cdn/x.css']);
    expect(externalResources('<a href="https://plotly.com/">link</a><link rel="icon" href="https://x/icon.png">')).toEqual([]);
  });

  it('renders its plotly figure in headless Chromium without leaving the machine', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('pageerror', (e) => errors.push(e.message));
      // Slide 3 ("Rich output") holds the figure; reveal.js reads the slide from the hash.
      await page.goto(`file://${deck}#/2`);
      await page.waitForFunction(() => document.querySelectorAll('.tsp-plotly svg.main-svg').length > 0, null, { timeout: 30_000 });
      const rendered = await page.evaluate(() => ({
        traces: document.querySelectorAll('.tsp-plotly .scatterlayer .trace').length,
        title: document.querySelector('.tsp-plotly .gtitle')?.textContent,
        present: document.querySelector('.slides section.present')?.textContent?.includes('Rich output'),
      }));
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'slides-00-hello.png') });
      expect(rendered).toEqual({ traces: 1, title: 'Triangular numbers', present: true });
      expect(requests.filter((u) => !isLocalUrl(u))).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
