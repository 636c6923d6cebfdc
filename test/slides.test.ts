/**
 * `tslab-parallel slides` makes reveal.js decks that work offline. The test exports a lecture as
 * committed (notebooks/07-diffusion.ipynb, with its outputs) and opens the deck from disk in
 * headless Chromium: the slide with the 2D diffusion heatmaps renders its plotly figure (the SVG
 * and both heatmaps are in the page), and the page requests nothing beyond the file system or
 * localhost. A screenshot of that slide is kept in build/artifacts/. Long code lines wrap (the
 * deck style, src/cli/slides-style.ts): no code block on any slide is wider than its slide.
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
const lecture = '07-diffusion';
const figureTitle = '2D diffusion, 256 × 128 points: initial field and after 5000 steps (np 4)';

describe('offline slides of a lecture', () => {
  let work: string;
  let deck: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tsp-slides-'));
    execFileSync(process.execPath, [cli, 'slides', join(root, 'notebooks', `${lecture}.ipynb`), '--output', join(work, 'slides')], { stdio: 'pipe' });
    deck = join(work, 'slides', `${lecture}.slides.html`);
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('writes a deck and its assets beside it', () => {
    expect(readdirSync(join(work, 'slides')).sort()).toEqual([`${lecture}.slides.html`, 'assets']);
    expect(readdirSync(join(work, 'slides', 'assets')).sort()).toEqual(['jquery.min.js', 'mathjax-stub.js', 'require.js', 'reveal.js']);
  });

  it('finds external resources in HTML (the check the command applies to every deck)', () => {
    expect(externalResources('<script src="https://unpkg.com/x.js"></script><link rel="stylesheet" href="//cdn/x.css"><img src="a.png">'))
      .toEqual(['https://unpkg.com/x.js', '//cdn/x.css']);
    expect(externalResources('<a href="https://plotly.com/">link</a><link rel="icon" href="https://x/icon.png">')).toEqual([]);
  });

  it('renders the heatmaps slide in headless Chromium without leaving the machine', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${deck}`);
      // Find the slide that holds the figure: top-level sections are reveal.js's horizontal
      // slides, sections inside them its vertical ones (subslides); the URL hash selects one.
      const where = await page.evaluate((title) => {
        const figure = [...document.querySelectorAll('.tsp-plotly')].find((d) => (d.parentElement?.innerHTML ?? '').includes(title));
        const section = figure?.closest('section');
        if (!section) return null;
        const top = [...document.querySelectorAll('.slides > section')];
        const outer = section.parentElement?.closest('section') ?? section;
        const h = top.indexOf(outer);
        const v = outer === section ? 0 : [...outer.querySelectorAll(':scope > section')].indexOf(section);
        return { h, v };
      }, figureTitle);
      expect(where).not.toBeNull();
      await page.goto(`file://${deck}#/${where!.h}/${where!.v}`);
      await page.waitForFunction((title) => [...document.querySelectorAll('.slides section.present .tsp-plotly .gtitle')].some((t) => t.textContent === title), figureTitle, { timeout: 30_000 });
      await page.waitForTimeout(500); // let reveal.js finish its transition before the screenshot
      await page.evaluate(() => document.querySelector('.slides section.present .tsp-plotly')?.scrollIntoView({ block: 'center' }));
      const rendered = await page.evaluate(() => {
        const present = [...document.querySelectorAll('.slides section.present .tsp-plotly')];
        return {
          svgs: present.filter((d) => d.querySelector('svg.main-svg')).length,
          heatmaps: present.reduce((n, d) => n + d.querySelectorAll('.heatmaplayer image, .heatmaplayer .hm').length, 0),
          axisTitles: present.flatMap((d) => [...d.querySelectorAll('.xtitle, .ytitle, .x2title, .y2title')].map((t) => t.textContent)),
        };
      });
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, `slides-${lecture}.png`) });
      expect(rendered.svgs).toBe(1);
      expect(rendered.heatmaps).toBeGreaterThanOrEqual(2);
      expect(rendered.axisTitles.sort()).toEqual(['x', 'x', 'y', 'y']);
      expect(requests.filter((u) => !isLocalUrl(u))).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('wraps long code lines: no code block on any slide is wider than its slide (screenshot of the first code cell)', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`file://${deck}`);
      // Every slide (h, v) that shows code: cells' inputs and outputs, and code in markdown.
      const slides = await page.evaluate(() => {
        const found: { h: number; v: number; cell: boolean }[] = [];
        [...document.querySelectorAll('.slides > section')].forEach((top, h) => {
          const subs = [...top.querySelectorAll(':scope > section')];
          (subs.length ? subs : [top]).forEach((s, v) => {
            if (s.querySelector('pre')) found.push({ h, v, cell: !!s.querySelector('.jp-CodeCell pre') });
          });
        });
        return found;
      });
      expect(slides.filter((s) => s.cell).length).toBeGreaterThan(3);
      const overflowing: string[] = [];
      for (const { h, v } of slides) {
        await page.goto(`file://${deck}#/${h}/${v}`);
        await page.waitForFunction(() => document.querySelector('.slides section.present pre'));
        overflowing.push(...(await page.evaluate((where) => {
          const present = [...document.querySelectorAll('.slides section.present')].pop()!;
          const edge = present.getBoundingClientRect().right;
          return [...present.querySelectorAll('pre')]
            .filter((el) => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right > edge + 1)
            .map((el) => `slide ${where}: ${el.scrollWidth} px of code in ${el.clientWidth} px: ${(el.textContent ?? '').trim().split('\n')[0]}`);
        }, `${h}/${v}`)));
      }
      const first = slides.find((s) => s.cell)!;
      await page.goto(`file://${deck}#/${first.h}/${first.v}`);
      await page.waitForTimeout(500); // reveal.js's transition, before the screenshot
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, `slides-${lecture}-first-code.png`) });
      expect(overflowing).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
