/**
 * The classic Jupyter Notebook UI (Debian's `jupyter-notebook`, 6.4) in headless Chromium,
 * driven as a user drives it: the server on 127.0.0.1 with a random port and token, this
 * kernel's spec in the test's own JUPYTER_PATH. A lecture notebook runs all its cells from the
 * Cell menu with no error output, its plotly figures drawn as SVG and its table rendered; in a
 * new notebook (File > New from the tree page) Tab completes, Shift-Tab shows the tooltip, the
 * toolbar's interrupt button stops a busy `%pool` map with the kernel and its variables kept,
 * and Kernel > Restart gives a fresh kernel. No request leaves the machine. Screenshots go to
 * build/artifacts/notebook-ui-*.png. The server and the browser are stopped whatever happens.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLocalUrl, launchChromium } from './helpers/browser.js';
import { createJupyterEnv, kKernelName, kRepoRoot, type JupyterEnv } from './helpers/jupyter-env.js';
import { startJupyterServer, type JupyterServer } from './helpers/jupyter-server.js';

const kLecture = '08-trivial-parallelism';
const artifacts = join(kRepoRoot, 'build', 'artifacts');

let env: JupyterEnv;
let server: JupyterServer;
let browser: Browser;
let context: BrowserContext;
const requested: string[] = [];

beforeAll(async () => {
  env = createJupyterEnv();
  const root = join(env.dir, 'notebooks');
  mkdirSync(root);
  copyFileSync(join(kRepoRoot, 'notebooks', `${kLecture}.ipynb`), join(root, `${kLecture}.ipynb`));
  mkdirSync(artifacts, { recursive: true });
  server = await startJupyterServer(env, root, 60_000, 'notebook');
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Every request of every page, WebSockets included: all must stay on this machine.
  context.on('request', (r) => requested.push(r.url()));
  context.on('page', (p) => p.on('websocket', (ws) => requested.push(ws.url())));
}, 120_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop();
  env?.cleanup();
}, 60_000);

const url = (path: string) => `${server.baseUrl}${path}?token=${server.token}`;

/** The classic notebook's own state, read in the page (window.Jupyter). */
interface CellState {
  type: string;
  prompt: unknown;
  outputs: { output_type: string; ename?: string; text?: string; data?: Record<string, string> }[];
}
function cells(page: Page): Promise<CellState[]> {
  return page.evaluate(() => {
    const nb = (window as unknown as { Jupyter: { notebook: { get_cells(): { cell_type: string; input_prompt_number?: unknown; output_area?: { outputs: CellState['outputs'] } }[] } } }).Jupyter.notebook;
    return nb.get_cells().map((c) => ({ type: c.cell_type, prompt: c.input_prompt_number, outputs: JSON.parse(JSON.stringify(c.output_area?.outputs ?? [])) }));
  });
}

async function kernelIdle(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForSelector('#kernel_indicator_icon.kernel_idle_icon', { timeout });
}

async function openNotebook(page: Page, path: string): Promise<void> {
  await page.goto(url(`notebooks/${path}`));
  await page.waitForFunction(() => {
    const j = (window as unknown as { Jupyter?: { notebook?: { kernel?: { is_connected?(): boolean } } } }).Jupyter;
    return !!j?.notebook?.kernel?.is_connected?.();
  }, undefined, { timeout: 60_000 });
  await kernelIdle(page);
}

/** Puts `code` in the selected cell and runs it with the toolbar's Run button; returns that cell's outputs. */
async function runCell(page: Page, code: string, timeout = 60_000): Promise<CellState['outputs']> {
  const index = await page.evaluate((text) => {
    const nb = (window as unknown as { Jupyter: { notebook: { get_selected_cell(): { set_text(t: string): void }; get_selected_index(): number } } }).Jupyter.notebook;
    nb.get_selected_cell().set_text(text);
    return nb.get_selected_index();
  }, code);
  await page.click('button[data-jupyter-action="jupyter-notebook:run-cell-and-select-next"]');
  await page.waitForFunction((i) => typeof (window as unknown as { Jupyter: { notebook: { get_cell(i: number): { input_prompt_number?: unknown } } } }).Jupyter.notebook.get_cell(i).input_prompt_number === 'number', index, { timeout });
  await kernelIdle(page, timeout);
  return (await cells(page))[index].outputs;
}

const plain = (outputs: CellState['outputs']) => outputs.map((o) => o.data?.['text/plain'] ?? o.text ?? '').join('');

describe('the classic Jupyter Notebook UI in Chromium', () => {
  it(`runs ${kLecture} from the Cell menu: no error output, plotly figures as SVG, the table rendered`, async () => {
    const page = await context.newPage();
    await openNotebook(page, `${kLecture}.ipynb`);
    expect(await page.textContent('.kernel_indicator_name')).toBe('TypeScript (parallel)');
    await page.click('#celllink');
    await page.click('#run_all_cells a');
    await page.waitForFunction(() => {
      const nb = (window as unknown as { Jupyter: { notebook: { get_cells(): { cell_type: string; input_prompt_number?: unknown }[] } } }).Jupyter.notebook;
      return nb.get_cells().every((c) => c.cell_type !== 'code' || typeof c.input_prompt_number === 'number');
    }, undefined, { timeout: 240_000 });
    await kernelIdle(page);
    const state = (await cells(page)).filter((c) => c.type === 'code');
    expect(state.length).toBeGreaterThan(5);
    expect(state.flatMap((c) => c.outputs).filter((o) => o.output_type === 'error')).toEqual([]);
    // plotly.js draws each figure into an <svg class="main-svg"> inside the output's div.
    const figures = await page.$$eval('.output_area .tsp-plotly', (ds) => ds.length);
    expect(figures).toBeGreaterThanOrEqual(1);
    await page.waitForFunction((n) => document.querySelectorAll('.output_area .tsp-plotly svg.main-svg').length >= n, figures, { timeout: 30_000 });
    const table = await page.$$eval('.output_area table.tsp-table', (ts) => ts.map((t) => ({ rows: t.querySelectorAll('tbody tr').length, head: [...t.querySelectorAll('th')].map((h) => h.textContent) })));
    expect(table).toEqual([{ rows: 8, head: ['seed', 'darts', 'pi'] }]);
    await page.$eval('.output_area table.tsp-table', (t) => t.scrollIntoView({ block: 'center' }));
    await page.screenshot({ path: join(artifacts, 'notebook-ui-lecture-table.png') });
    await page.$eval('.output_area .tsp-plotly', (d) => d.scrollIntoView({ block: 'center' }));
    await page.screenshot({ path: join(artifacts, 'notebook-ui-lecture-figure.png') });
    await page.close();
  }, 300_000);

  describe('a new notebook', () => {
    let page: Page;

    beforeAll(async () => {
      const tree = await context.newPage();
      await tree.goto(url('tree'));
      await tree.click('#new-dropdown-button');
      const [opened] = await Promise.all([context.waitForEvent('page'), tree.click(`#kernel-${kKernelName} a`)]);
      page = opened;
      await page.waitForURL(/\/notebooks\/Untitled.*\.ipynb/, { timeout: 60_000 });
      await page.waitForFunction(() => !!(window as unknown as { Jupyter?: { notebook?: { kernel?: { is_connected?(): boolean } } } }).Jupyter?.notebook?.kernel?.is_connected?.(), undefined, { timeout: 60_000 });
      await kernelIdle(page);
      await tree.close();
    }, 120_000);

    it('completes with Tab and inspects with Shift-Tab', async () => {
      expect(plain(await runCell(page, 'const greetingOne = 1;\nconst greetingTwo = 2;\ngreetingOne + greetingTwo'))).toBe('3');
      await page.click('.cell.selected .CodeMirror');
      await page.keyboard.type('greeting');
      await page.keyboard.press('Tab');
      await page.waitForSelector('#complete select', { timeout: 30_000 });
      const options = await page.$$eval('#complete select option', (os) => os.map((o) => o.textContent));
      expect(options).toEqual(expect.arrayContaining(['greetingOne', 'greetingTwo']));
      await page.screenshot({ path: join(artifacts, 'notebook-ui-completion.png') });
      await page.keyboard.press('Escape');
      await page.evaluate(() => (window as unknown as { Jupyter: { notebook: { get_selected_cell(): { set_text(t: string): void } } } }).Jupyter.notebook.get_selected_cell().set_text(''));
      await page.click('.cell.selected .CodeMirror');
      await page.keyboard.type('Math.hypot');
      await page.keyboard.press('Shift+Tab');
      await page.waitForSelector('#tooltip', { state: 'visible', timeout: 30_000 });
      await page.waitForFunction(() => /hypot/.test(document.querySelector('#tooltip')?.textContent ?? ''), undefined, { timeout: 30_000 });
      expect(await page.textContent('#tooltip')).toMatch(/hypot\(.*number/s);
      await page.screenshot({ path: join(artifacts, 'notebook-ui-inspection.png') });
      await page.keyboard.press('Escape');
    }, 120_000);

    it('the interrupt button stops a busy %pool map; the kernel and its variables are kept', async () => {
      await page.evaluate(() => (window as unknown as { Jupyter: { notebook: { get_selected_cell(): { set_text(t: string): void } } } }).Jupyter.notebook.get_selected_cell().set_text(''));
      expect(plain(await runCell(page, '%pool 2'))).toMatch(/2/);
      await runCell(page, "const kept = 'still here';\nfunction spin(ms: number): number {\n  const end = Date.now() + ms;\n  while (Date.now() < end) {}\n  return ms;\n}");
      const index = await page.evaluate(() => {
        const nb = (window as unknown as { Jupyter: { notebook: { get_selected_cell(): { set_text(t: string): void }; get_selected_index(): number } } }).Jupyter.notebook;
        nb.get_selected_cell().set_text('await pool.map(spin, [120_000, 120_000, 120_000, 120_000])');
        return nb.get_selected_index();
      });
      await page.click('button[data-jupyter-action="jupyter-notebook:run-cell-and-select-next"]');
      await page.waitForSelector('#kernel_indicator_icon.kernel_busy_icon', { timeout: 30_000 });
      await page.screenshot({ path: join(artifacts, 'notebook-ui-busy.png') });
      await page.click('button[data-jupyter-action="jupyter-notebook:interrupt-kernel"]');
      await page.waitForFunction((i) => typeof (window as unknown as { Jupyter: { notebook: { get_cell(i: number): { input_prompt_number?: unknown } } } }).Jupyter.notebook.get_cell(i).input_prompt_number === 'number', index, { timeout: 60_000 });
      await kernelIdle(page);
      const stopped = (await cells(page))[index].outputs;
      expect(stopped.filter((o) => o.output_type === 'error').map((o) => o.ename)).toEqual(['KeyboardInterrupt']);
      await page.screenshot({ path: join(artifacts, 'notebook-ui-interrupted.png') });
      expect(plain(await runCell(page, 'kept'))).toBe('still here');
      expect(plain(await runCell(page, 'await pool.map(spin, [1, 2])'))).toBe('[ 1, 2 ]');
    }, 180_000);

    it('Kernel > Restart gives a fresh kernel', async () => {
      await page.click('#kernellink');
      await page.click('#restart_kernel a');
      await page.click('.modal-dialog .modal-footer button.btn-danger');
      await page.waitForSelector('.modal-dialog', { state: 'detached', timeout: 30_000 });
      await page.waitForFunction(() => !!(window as unknown as { Jupyter: { notebook: { kernel: { is_connected(): boolean } } } }).Jupyter.notebook.kernel.is_connected(), undefined, { timeout: 60_000 });
      await kernelIdle(page);
      // The new kernel has none of the old one's names.
      const gone = (await runCell(page, 'kept')).filter((o) => o.output_type === 'error');
      expect(gone).toHaveLength(1);
      expect(JSON.stringify(gone[0])).toMatch(/Cannot find name 'kept'/);
      expect(plain(await runCell(page, '6 * 7'))).toBe('42');
      await page.screenshot({ path: join(artifacts, 'notebook-ui-restarted.png') });
    }, 120_000);
  });

  it('no request left the machine (every URL is 127.0.0.1 or localhost)', () => {
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((u) => !isLocalUrl(u))).toEqual([]);
  });
});
