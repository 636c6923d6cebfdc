export { display, displayBundle, rich, type DisplayFunction } from './display.js';
export { plotly, setPlotlyEmbedding, type PlotlyFigure, type PlotlyEmbedding } from './plotly.js';
export { table, type Row, type TableOptions } from './table.js';
export { toMimeBundle, textOf, isDisplayable, isSilentResult, Rich } from './bundle.js';
export { installSink, currentSink } from './sink.js';
export { kToMimeBundle, kNoResult, type MimeBundle, type DisplayHandle, type DisplaySink, type Displayable, type DisplayOptions } from './types.js';
