/**
 * CSS added to every deck. nbconvert's reveal template keeps code cells' lines as they are, so
 * a line wider than the slide (960 px before reveal.js scales it) is cut off at its right edge
 * when projected. Here code and text outputs wrap at the slide's edge instead (breaking inside
 * a word only when a word alone is wider than the slide), at the font size the lecturer chose.
 */
export const kSlidesStyle = `
<style id="tsp-slides-style">
.reveal .jp-InputArea pre, .reveal .jp-OutputArea pre, .reveal .highlight pre, .reveal pre {
  white-space: pre-wrap;
  overflow-wrap: anywhere;
  max-width: 100%;
  box-sizing: border-box;
}
.reveal .jp-InputArea, .reveal .jp-InputArea-editor, .reveal .jp-OutputArea, .reveal .jp-Cell { min-width: 0; max-width: 100%; }
</style>
`;

/** Puts the deck style at the end of `<head>`, after the template's own, so it wins. */
export function withSlidesStyle(html: string): string {
  if (html.includes('id="tsp-slides-style"')) return html;
  const at = html.indexOf('</head>');
  return at < 0 ? kSlidesStyle + html : html.slice(0, at) + kSlidesStyle + html.slice(at);
}
