/**
 * Source map v3 lookups: from a position in generated JavaScript back to the cell's TypeScript.
 * Only what the kernel needs: decode the VLQ mappings of one file and answer
 * "which original line and column does generated line L, column C come from".
 */

interface Segment {
  /** 0-based generated column. */
  readonly column: number;
  /** 0-based original line and column. */
  readonly line: number;
  readonly originalColumn: number;
}

const kBase64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const kDigit = new Map([...kBase64].map((c, i) => [c, i]));

export class LineMap {
  /** Segments per generated line (0-based), sorted by column. */
  readonly #lines: Segment[][];

  private constructor(lines: Segment[][]) {
    this.#lines = lines;
  }

  static parse(mapText: string): LineMap {
    if (!mapText) return new LineMap([]);
    const { mappings } = JSON.parse(mapText) as { mappings: string };
    return new LineMap(decodeMappings(mappings));
  }

  /** Maps a 1-based generated line and 1-based column to a 1-based original line and column. */
  original(line: number, column: number): { line: number; column: number } | undefined {
    const segments = this.#lines[line - 1];
    if (segments?.length) {
      let best: Segment | undefined;
      for (const s of segments) {
        if (s.column <= column - 1) best = s;
        else break;
      }
      best ??= segments[0];
      return { line: best.line + 1, column: best.originalColumn + 1 + Math.max(0, column - 1 - best.column) };
    }
    // A generated line with no mapping (helper code) belongs to the last mapped line before it.
    for (let l = line - 2; l >= 0; l--) {
      const prev = this.#lines[l];
      if (prev?.length) return { line: prev[prev.length - 1].line + 1, column: 1 };
    }
    return undefined;
  }
}

function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let sourceLine = 0;
  let sourceColumn = 0;
  let sourceIndex = 0;
  let nameIndex = 0;
  for (const lineText of mappings.split(';')) {
    const segments: Segment[] = [];
    let column = 0;
    for (const segText of lineText.split(',')) {
      if (!segText) continue;
      const fields = decodeVlq(segText);
      column += fields[0];
      if (fields.length >= 4) {
        sourceIndex += fields[1];
        sourceLine += fields[2];
        sourceColumn += fields[3];
        if (fields.length >= 5) nameIndex += fields[4];
        segments.push({ column, line: sourceLine, originalColumn: sourceColumn });
      }
    }
    segments.sort((a, b) => a.column - b.column);
    lines.push(segments);
  }
  void sourceIndex;
  void nameIndex;
  return lines;
}

function decodeVlq(text: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of text) {
    const digit = kDigit.get(ch);
    if (digit === undefined) throw new Error(`invalid base64 digit '${ch}' in a source map`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      const negative = value & 1;
      value >>>= 1;
      out.push(negative ? -value : value);
      value = 0;
      shift = 0;
    }
  }
  return out;
}
