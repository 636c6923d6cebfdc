/**
 * One page with every benchmark's state: reads the comparisons in build/bench/*.json (written
 * by bench/peers' Results) and writes build/bench/report.html — a plotly chart of each cost
 * ratio (ours/peer, below 1 is better) against its target, and a table of every figure beside
 * the peer's; report.md holds the same table in Markdown. Offline: plotly.js is embedded.
 * `npm run bench` writes both after the benchmarks; `node dist/bench/report.js` redraws them
 * from the JSON already there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { plotlyLibrary } from '../src/display/plotly.js';
import { projectRoot, type Comparison } from './peers/compare.js';
import { formatProbe, type HostProbe } from './quiet.js';

interface BenchFile {
  readonly name: string;
  readonly date: string;
  readonly machine?: Record<string, unknown>;
  readonly comparisons: readonly Comparison[];
}

const kBenchDir = path.join(projectRoot, 'build', 'bench');

export function readResults(dir = kBenchDir): BenchFile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Partial<BenchFile>)
    .filter((b): b is BenchFile => Array.isArray(b.comparisons));
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));

function verdict(c: Comparison): string {
  if (!c.target) return '';
  return c.met === undefined ? 'not judged' : c.met ? 'met' : 'NOT MET';
}

/** The ratio chart: one bar per comparison with a peer, coloured by verdict, with its target as a marker. */
function ratioFigure(files: readonly BenchFile[]): Record<string, unknown> {
  const rows = files.flatMap((f) => f.comparisons.filter((c) => c.ratio).map((c) => ({ bench: f.name, c })));
  const on = (c: Comparison) => c.target?.on ?? 'best';
  const colour = (c: Comparison) => (c.met === undefined ? '#888' : c.met ? '#2a9d4b' : '#d1495b');
  const labels = rows.map((r) => `${r.bench}: ${r.c.title}`);
  return {
    data: [
      {
        type: 'bar',
        orientation: 'h',
        y: labels,
        x: rows.map((r) => r.c.ratio![on(r.c)]),
        marker: { color: rows.map((r) => colour(r.c)) },
        text: rows.map((r) => `${r.c.ratio![on(r.c)].toFixed(2)}x (${on(r.c)}) vs ${r.c.peer!.name}`),
        hoverinfo: 'text',
        name: 'ours / peer',
      },
      {
        type: 'scatter',
        mode: 'markers',
        y: labels.filter((_, i) => rows[i]!.c.target?.maxRatio !== undefined),
        x: rows.filter((r) => r.c.target?.maxRatio !== undefined).map((r) => r.c.target!.maxRatio),
        marker: { symbol: 'line-ns-open', size: 18, color: '#000', line: { width: 3 } },
        name: 'target',
        hoverinfo: 'x',
      },
    ],
    layout: {
      title: 'Cost ratio ours / peer (below 1: we are faster or smaller); bar green = target met',
      xaxis: { type: 'log', title: 'ratio (log scale)' },
      yaxis: { automargin: true, autorange: 'reversed' },
      height: Math.max(300, 28 * rows.length + 120),
      margin: { l: 20, r: 20, t: 60, b: 50 },
      showlegend: true,
    },
  };
}

function table(files: readonly BenchFile[]): string {
  const head = '<tr><th>benchmark</th><th>figure</th><th>ours best (median)</th><th>peer best (median)</th><th>ratio best / median</th><th>target</th><th>verdict</th></tr>';
  const rows = files.flatMap((f) =>
    f.comparisons.map((c) => {
      const side = (s: { best: number; median: number }) => `${num(s.best)} ${escape(c.unit)} (${num(s.median)})`;
      const peer = c.peer ? `${escape(c.peer.name)}: ${side(c.peer)}` : c.peerMissing ? `<em>no peer: ${escape(c.peerMissing)}</em>` : '—';
      const ratio = c.ratio ? `${c.ratio.best.toFixed(2)}x / ${c.ratio.median.toFixed(2)}x` : '—';
      const v = verdict(c);
      return `<tr class="${v === 'met' ? 'met' : v === 'NOT MET' ? 'missed' : ''}"><td>${escape(f.name)}</td><td>${escape(c.title)}</td><td>${side(c.ours)}</td><td>${peer}</td><td>${ratio}</td><td>${escape(c.target?.text ?? '')}</td><td>${v}</td></tr>`;
    }),
  );
  return `<table>${head}${rows.join('\n')}</table>`;
}

/** The probes bench/index.ts wrote before and after the run (build/bench/host.json), if any. */
export function readHostProbes(dir = kBenchDir): Record<string, HostProbe> {
  const file = path.join(dir, 'host.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, HostProbe>) : {};
}

/** One line per probe: was the machine quiet before and after the run? */
function hostLines(probes: Record<string, HostProbe>): string[] {
  const entries = Object.entries(probes);
  return entries.length ? entries.map(([when, p]) => `Host ${when}: ${formatProbe(p)}`) : ['Host: not probed (run `npm run bench` to probe it before and after)'];
}

export function reportHtml(files: readonly BenchFile[], probes: Record<string, HostProbe> = {}): string {
  const all = files.flatMap((f) => f.comparisons);
  const judged = all.filter((c) => c.met !== undefined);
  const met = judged.filter((c) => c.met).length;
  const machine = files[0]?.machine ? escape(JSON.stringify(files[0].machine)) : 'unknown';
  const dates = files.map((f) => `${escape(f.name)} ${escape(f.date)}`).join(', ');
  const figure = JSON.stringify(ratioFigure(files)).replace(/<\//g, '<\\/');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>tslab-parallel benchmarks</title>
<style>body{font-family:sans-serif;margin:1.5em;max-width:1200px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}tr.met td:last-child{color:#2a9d4b}tr.missed td:last-child{color:#d1495b;font-weight:bold}</style>
<script>${plotlyLibrary()}</script></head>
<body><h1>tslab-parallel benchmarks against their peers, same run</h1>
<p><strong>${met} of ${judged.length}</strong> judged targets met; ${all.length - judged.length} figures without a judged target (informative, or the peer is missing).</p>
<p>Machine: ${machine}<br>Runs: ${dates}</p>
<p>${hostLines(probes).map(escape).join('<br>')}</p>
<div id="ratios"></div>
<script>var f=${figure};Plotly.newPlot('ratios',f.data,f.layout,{displaylogo:false,responsive:true});</script>
${table(files)}
</body></html>
`;
}

/** The same figures as a Markdown table, for the README and an issue note. */
export function reportMarkdown(files: readonly BenchFile[], probes: Record<string, HostProbe> = {}): string {
  const rows = files.flatMap((f) =>
    f.comparisons.map((c) => {
      const side = (s: { best: number; median: number }) => `${num(s.best)} (${num(s.median)}) ${c.unit}`;
      const peer = c.peer ? `${c.peer.name}: ${side(c.peer)}` : c.peerMissing ? `no peer: ${c.peerMissing}` : '';
      const ratio = c.ratio ? `${c.ratio.best.toFixed(2)}x / ${c.ratio.median.toFixed(2)}x` : '';
      return `| ${f.name} | ${c.title} | ${side(c.ours)} | ${peer} | ${ratio} | ${c.target?.text ?? ''} | ${verdict(c)} |`;
    }),
  );
  const table = ['| bench | figure | ours best (median) | peer best (median) | ratio best / median | target | verdict |', '|---|---|---|---|---|---|---|', ...rows];
  return [...table, '', ...hostLines(probes).map((line) => `- ${line}`)].join('\n') + '\n';
}

/** Writes build/bench/report.html and report.md from the results there; undefined when there are none. */
export function writeReport(dir = kBenchDir): string | undefined {
  const files = readResults(dir);
  if (files.length === 0) return undefined;
  const out = path.join(dir, 'report.html');
  const probes = readHostProbes(dir);
  fs.writeFileSync(out, reportHtml(files, probes));
  fs.writeFileSync(path.join(dir, 'report.md'), reportMarkdown(files, probes));
  return out;
}

if (require.main === module) {
  const out = writeReport();
  console.log(out ? `wrote ${path.relative(process.cwd(), out)}` : `no benchmark results in ${kBenchDir}: run npm run bench first`);
}
