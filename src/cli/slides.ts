/**
 * `tslab-parallel slides NOTEBOOK|DIR... [--output DIR] [--theme NAME] [--optional]`: reveal.js slides with
 * nbconvert that work offline. nbconvert's reveal template loads reveal.js from unpkg and jQuery,
 * require.js and MathJax from CDNs (or, on Debian, from file:///usr/share paths); here they come
 * from this package's npm dependencies, copied beside the decks, so a deck folder can be opened
 * from disk anywhere. Plotly figures carry plotly.js in their HTML already (src/display/plotly.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { expandNotebooks } from './run.js';
import { withSlidesStyle } from './slides-style.js';

const kAssets = 'assets';
/**
 * The reveal template re-typesets MathJax on every slide change. The lectures use no LaTeX, so
 * instead of the 60 MB MathJax a stub answers those calls; LaTeX in markdown is left as text.
 */
const kMathJaxStub = `window.MathJax = window.MathJax || { Hub: { getAllJax: function () { return []; }, Rerender: function () {}, Queue: function () {}, Config: function () {} } };\n`;

/** What to tell a user without nbconvert: the one line `slides` prints instead of ENOENT. */
export const kNbconvertHint = 'they need jupyter nbconvert: sudo apt-get install jupyter-nbconvert, or scripts/setup-system.sh';

/** Whether `jupyter nbconvert` runs here (jupyter-core alone answers "command not found"). */
export function nbconvertAvailable(): boolean {
  const r = spawnSync('jupyter', ['nbconvert', '--version'], { stdio: 'ignore', timeout: 60_000 });
  return !r.error && r.status === 0;
}

export interface SlidesOptions {
  readonly output: string;
  readonly theme?: string;
}

export function exportSlides(notebooks: readonly string[], options: SlidesOptions): string[] {
  const out = resolve(options.output);
  mkdirSync(join(out, kAssets), { recursive: true });
  const revealDir = dirname(require.resolve('reveal.js/package.json'));
  cpSync(join(revealDir, 'dist'), join(out, kAssets, 'reveal.js', 'dist'), { recursive: true });
  cpSync(join(revealDir, 'plugin', 'notes'), join(out, kAssets, 'reveal.js', 'plugin', 'notes'), { recursive: true });
  dropRemoteImports(join(out, kAssets, 'reveal.js', 'dist', 'theme'));
  cpSync(require.resolve('jquery/dist/jquery.min.js'), join(out, kAssets, 'jquery.min.js'));
  cpSync(require.resolve('requirejs/require.js'), join(out, kAssets, 'require.js'));
  writeFileSync(join(out, kAssets, 'mathjax-stub.js'), kMathJaxStub);

  const written: string[] = [];
  for (const nb of notebooks) {
    execFileSync(
      'jupyter',
      [
        'nbconvert', '--to', 'slides', nb, '--output-dir', out,
        `--SlidesExporter.reveal_url_prefix=${kAssets}/reveal.js`,
        `--SlidesExporter.jquery_url=${kAssets}/jquery.min.js`,
        `--SlidesExporter.require_js_url=${kAssets}/require.js`,
        `--SlidesExporter.mathjax_url=${kAssets}/mathjax-stub.js`,
        `--SlidesExporter.reveal_theme=${options.theme ?? 'white'}`,
        '--SlidesExporter.reveal_scroll=True',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const deck = join(out, basename(nb).replace(/\.ipynb$/, '.slides.html'));
    const html = withSlidesStyle(readFileSync(deck, 'utf8'));
    writeFileSync(deck, html);
    const external = externalResources(html);
    if (external.length) throw new Error(`${deck} still loads from the network: ${external.join(', ')}`);
    written.push(deck);
  }
  return written;
}

/**
 * Some reveal.js themes @import web fonts from Google; offline they only cost failed requests,
 * so the import is dropped and the theme's fallback fonts apply ("white", the default, ships its fonts).
 */
function dropRemoteImports(themeDir: string): void {
  for (const f of readdirSync(themeDir)) {
    if (!f.endsWith('.css')) continue;
    const path = join(themeDir, f);
    const css = readFileSync(path, 'utf8');
    const cleaned = css.replace(/@import\s+url\(\s*["']?https?:[^)]*\)\s*;?/gi, '');
    if (cleaned !== css) writeFileSync(path, cleaned);
  }
}

/** URLs the page would fetch from outside the file system (script, stylesheet, image, iframe sources). */
export function externalResources(html: string): string[] {
  const found = new Set<string>();
  const tag = /<(script|link|img|iframe|source)\b[^>]*?\b(src|href)\s*=\s*["']([^"']+)["']/gi;
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    const [, name, , url] = m;
    if (name.toLowerCase() === 'link' && !/rel\s*=\s*["']?stylesheet/i.test(m[0])) continue;
    if (/^(https?:)?\/\//i.test(url) || /^file:/i.test(url)) found.add(url);
  }
  return [...found];
}

export async function slidesCommand(argv: string[]): Promise<number> {
  const paths: string[] = [];
  let output = 'build/slides';
  let theme: string | undefined;
  let optional = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--output' || argv[i] === '-o') output = argv[++i];
    else if (argv[i] === '--theme') theme = argv[++i];
    else if (argv[i] === '--optional') optional = true;
    else if (argv[i].startsWith('-')) throw new Error(`slides: unknown option ${argv[i]} (valid: --output DIR, --theme NAME, --optional)`);
    else paths.push(argv[i]);
  }
  if (paths.length === 0) throw new Error('slides needs notebooks or a directory (e.g. tslab-parallel slides build/notebooks --output build/slides)');
  const notebooks = expandNotebooks(paths.filter((p) => existsSync(p)));
  if (notebooks.length === 0) throw new Error(`slides: no notebooks in ${paths.join(', ')}`);
  if (!nbconvertAvailable()) {
    // npm start passes --optional: the notebooks ran, the slides are an extra.
    if (optional) {
      console.log(`Skipped the slides: ${kNbconvertHint}`);
      return 0;
    }
    throw new Error(`cannot make slides: ${kNbconvertHint}`);
  }
  for (const deck of exportSlides(notebooks, { output, theme })) console.log(`slides: ${deck}`);
  console.log(`Slides are in ${resolve(output)} (open the .slides.html files in a browser; they work offline)`);
  return 0;
}
