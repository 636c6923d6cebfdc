/**
 * complete_request, inspect_request and is_complete_request for cells that mix TypeScript with
 * magics: the cursor is located in its segment, TypeScript goes to the engine, magic lines
 * complete and explain from the magics' specs.
 */
import type { Engine } from '../engine/engine.js';
import type { MagicRegistry } from '../magics/registry.js';
import type { MagicKind } from '../magics/types.js';
import { parseCell } from './cell-parser.js';

interface Located {
  /** Offset of the segment's text in the cell. */
  readonly offset: number;
  readonly text: string;
}

export async function completeCell(engine: Engine, magics: MagicRegistry, code: string, cursor: number): Promise<{ matches: string[]; start: number; end: number }> {
  const lineStart = code.lastIndexOf('\n', cursor - 1) + 1;
  const lineText = code.slice(lineStart, code.indexOf('\n', cursor) < 0 ? code.length : code.indexOf('\n', cursor));
  const magic = /^(%{1,2})([\w-]*)/.exec(lineText);
  if (magic) return completeMagicLine(magics, magic[1] === '%%' ? 'cell' : 'line', lineText, lineStart, cursor);
  const seg = locate(engine, code, cursor);
  if (!seg) return { matches: [], start: cursor, end: cursor };
  const c = await engine.complete(seg.text, cursor - seg.offset);
  return { matches: [...c.matches], start: c.start + seg.offset, end: c.end + seg.offset };
}

export async function inspectCell(engine: Engine, magics: MagicRegistry, code: string, cursor: number): Promise<string | undefined> {
  const lineStart = code.lastIndexOf('\n', cursor - 1) + 1;
  const magic = /^(%{1,2})([\w-]+)/.exec(code.slice(lineStart));
  if (magic) {
    const kind: MagicKind = magic[1] === '%%' ? 'cell' : 'line';
    try {
      return magics.help(kind, magic[2]);
    } catch (err) {
      return (err as Error).message;
    }
  }
  const seg = locate(engine, code, cursor);
  return seg ? engine.inspect(seg.text, cursor - seg.offset) : undefined;
}

export function isCellComplete(engine: Engine, code: string): Record<string, unknown> {
  if (/^\s*[%!]/.test(code)) return { status: 'complete' };
  try {
    const r = engine.isComplete(code);
    if (!r.complete) return { status: 'incomplete', indent: r.indent };
    return { status: r.invalid ? 'invalid' : 'complete' };
  } catch {
    return { status: 'unknown' };
  }
}

/**
 * The TypeScript segment (or cell magic body) that contains `cursor`. The cell is split as the
 * kernel splits it to run it, with the notebook's names known, so `done = !failed` stays code.
 */
function locate(engine: Engine, code: string, cursor: number): Located | undefined {
  const lineOffsets = [0];
  for (let i = 0; i < code.length; i++) if (code[i] === '\n') lineOffsets.push(i + 1);
  for (const s of parseCell(code, (name) => name in engine.namespace)) {
    let text: string;
    let firstLine: number;
    if (s.kind === 'code') {
      text = s.source;
      firstLine = s.line;
    } else if (s.kind === 'cell-magic' && !s.help) {
      text = s.body;
      firstLine = s.line + 1;
    } else continue;
    const offset = lineOffsets[firstLine - 1] ?? code.length;
    if (cursor >= offset && cursor <= offset + text.length) return { offset, text };
  }
  return undefined;
}

function completeMagicLine(magics: MagicRegistry, kind: MagicKind, lineText: string, lineStart: number, cursor: number) {
  const col = cursor - lineStart;
  const prefix = kind === 'cell' ? '%%' : '%';
  const nameEnd = prefix.length + (/^[\w-]*/.exec(lineText.slice(prefix.length))?.[0].length ?? 0);
  if (col <= nameEnd) {
    const typed = lineText.slice(prefix.length, col);
    const matches = magics.list(kind).map((s) => s.name).filter((n) => n.startsWith(typed)).map((n) => prefix + n);
    return { matches, start: lineStart, end: lineStart + nameEnd };
  }
  const name = lineText.slice(prefix.length, nameEnd);
  if (!magics.has(kind, name)) return { matches: [], start: cursor, end: cursor };
  const tokenStart = lineText.lastIndexOf(' ', col - 1) + 1;
  const typed = lineText.slice(tokenStart, col);
  const spec = magics.get(kind, name);
  const spellings = spec.args.flatMap((a) => (a.kind === 'option' || a.kind === 'flag' ? [`--${a.name}`, ...(a.aliases ?? []).map((x) => `-${x}`)] : []));
  return { matches: spellings.filter((s) => s.startsWith(typed)), start: lineStart + tokenStart, end: cursor };
}
