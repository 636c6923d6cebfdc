/**
 * Plotly figures as Jupyter outputs: `application/vnd.plotly.v1+json` (rendered natively by
 * JupyterLab's plotly renderer), plus a `text/html` fallback that draws the figure with
 * plotly.js, so nbconvert's offline HTML and slides show it too. The library comes from the
 * npm package (the cartesian bundle: scatter, bar, histogram, heatmap, contour) and is embedded
 * in the first figure of a kernel session only; later figures wait for it to be loaded.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Rich } from './bundle.js';

export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/** When the HTML fallback carries plotly.js: the first figure of the session, every one, or none. */
export type PlotlyEmbedding = 'once' | 'always' | 'never';

let embedding: PlotlyEmbedding = 'once';
let embedded = false;
let library: string | null = null;

export function setPlotlyEmbedding(mode: PlotlyEmbedding): void {
  embedding = mode;
}

export function plotlyLibrary(): string {
  library ??= readFileSync(require.resolve('plotly.js-cartesian-dist-min'), 'utf8').replace(/<\/script/gi, '<\\/script');
  return library;
}

export function plotly(figure: PlotlyFigure): Rich {
  const spec = { data: figure.data, layout: figure.layout ?? {}, config: { responsive: true, displaylogo: false, ...figure.config } };
  const withLibrary = embedding === 'always' || (embedding === 'once' && !embedded);
  if (withLibrary) embedded = true;
  return new Rich({
    'application/vnd.plotly.v1+json': spec,
    'text/html': figureHtml(spec, withLibrary),
    'text/plain': describe(spec),
  });
}

function figureHtml(spec: PlotlyFigure, withLibrary: boolean): string {
  const id = `tsp-plotly-${randomUUID()}`;
  const height = typeof spec.layout?.height === 'number' ? `${spec.layout.height}px` : '450px';
  // JSON inside a script: a "</" in a title must not end the script element.
  const json = JSON.stringify(spec).replace(/<\//g, '<\\/');
  const draw = `(function () {
  var spec = ${json};
  function draw() { window.Plotly.newPlot(${JSON.stringify(id)}, spec.data, spec.layout, spec.config); }
  if (window.Plotly) { draw(); } else { (window.__tspPlotlyQueue = window.__tspPlotlyQueue || []).push(draw); }
})();`;
  const lib = withLibrary
    ? `<script type="text/javascript">${plotlyLibrary()}</script>
<script type="text/javascript">(window.__tspPlotlyQueue || []).splice(0).forEach(function (f) { f(); });</script>\n`
    : '';
  return `<div id="${id}" class="tsp-plotly" style="width:100%;height:${height};"></div>
${lib}<script type="text/javascript">${draw}</script>`;
}

function describe(spec: PlotlyFigure): string {
  const title = spec.layout?.title;
  const text = typeof title === 'string' ? title : (title as { text?: string } | undefined)?.text;
  const kinds = [...new Set(spec.data.map((t) => String(t.type ?? 'scatter')))].join(', ');
  return `Plotly figure${text ? ` "${text}"` : ''}: ${spec.data.length} trace(s) (${kinds})`;
}
