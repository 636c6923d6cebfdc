/**
 * Turns anything a cell threw into Jupyter's error content: ename, evalue and a traceback whose
 * frames point at the cells' own lines, with the failing line quoted. Errors a user causes by
 * usage (UsageError, compile errors, interrupts, failing shell commands) are one clear message,
 * without a stack of the kernel's own frames.
 */
import { sep } from 'node:path';
import { CompileError } from '../engine/engine.js';
import type { SourceRegistry } from '../engine/sources.js';
import type { ErrorContent } from '../protocol/messages.js';
import { isUserFacing } from '../util/user-facing.js';

const kRed = '\x1b[0;31m';
const kGreen = '\x1b[0;32m';
const kBold = '\x1b[1m';
const kReset = '\x1b[0m';


/** This package's own code: frames from there are the kernel's, not the user's. */
const kOwnCode = `${sep}dist${sep}src${sep}`;

export function formatError(err: unknown, sources: SourceRegistry, packageRoot: string): ErrorContent {
  if (err instanceof CompileError) return formatCompileError(err, sources);
  if (!(err instanceof Error)) {
    const evalue = describe(err);
    return { ename: 'Error', evalue: `a non-Error value was thrown: ${evalue}`, traceback: [`${kRed}Uncaught${kReset} ${evalue}`] };
  }
  const ename = err.name || 'Error';
  const evalue = err.message;
  const head = `${kRed}${ename}${kReset}: ${evalue}`;
  // Their message says everything (src/util/user-facing.ts); a stack would only add noise.
  if (isUserFacing(err)) return { ename, evalue, traceback: [head] };

  const stack = sources.mapStack(err.stack ?? '');
  const frames = stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .filter((l) => !isInternalFrame(l, packageRoot));
  const lines = [head, ...frames];
  const where = firstCellFrame(frames, sources);
  if (where) lines.push('', ...excerpt(sources, where.label, where.line));
  return { ename, evalue, traceback: lines };
}

function formatCompileError(err: CompileError, sources: SourceRegistry): ErrorContent {
  const lines: string[] = [];
  for (const d of err.diagnostics) {
    const where = d.fileName ? `${d.fileName}:${d.line + 1}:${d.character + 1}` : `${err.label}:${d.cellLine}:${d.cellColumn}`;
    lines.push(`${kRed}${where}${kReset} - error TS${d.code}: ${d.message}`);
    if (!d.fileName) lines.push(...quote(err.label, numbered(err.cellText, d.cellLine), d.cellLine, d.cellColumn), '');
  }
  const first = err.diagnostics[0];
  const evalue = first ? `${err.label}, line ${first.cellLine}: ${first.message}` : 'compilation failed';
  return { ename: 'CompileError', evalue, traceback: lines };
}

function isInternalFrame(frame: string, packageRoot: string): boolean {
  if (/\(node:|at node:|\(internal\//.test(frame)) return true;
  return frame.includes(packageRoot + kOwnCode) || frame.includes(`${sep}node_modules${sep}tslab-parallel${kOwnCode}`);
}

/** The first frame in a cell, or in a file %run ran (its frames carry the file's name). */
function firstCellFrame(frames: readonly string[], sources: SourceRegistry): { label: string; line: number } | undefined {
  for (const f of frames) {
    const m = /(In\[[^\]\s]*\]):(\d+):\d+/.exec(f) ?? /([^\s()]+):(\d+):\d+\)?$/.exec(f);
    if (m && m[1] !== 'In[prelude]' && sources.excerpt(m[1], Number(m[2]), 0).length > 0) return { label: m[1], line: Number(m[2]) };
  }
  return undefined;
}

function excerpt(sources: SourceRegistry, label: string, line: number): string[] {
  return quote(label, sources.excerpt(label, line, 2), line);
}

function numbered(text: string, line: number, context = 2): { line: number; text: string }[] {
  const all = text.split('\n');
  const from = Math.max(1, line - context);
  const to = Math.min(all.length, line + context);
  return all.slice(from - 1, to).map((t, i) => ({ line: from + i, text: t }));
}

function quote(label: string, lines: readonly { line: number; text: string }[], line: number, column?: number): string[] {
  if (lines.length === 0) return [];
  const width = String(lines[lines.length - 1].line).length;
  const out = [`${kGreen}${label}, line ${line}${kReset}`];
  for (const l of lines) {
    const marker = l.line === line ? `${kGreen}---->${kReset} ` : '      ';
    out.push(`${marker}${String(l.line).padStart(width)} ${l.line === line ? kBold : ''}${l.text}${kReset}`);
    if (l.line === line && column !== undefined) out.push(`      ${' '.repeat(width)} ${' '.repeat(Math.max(0, column - 1))}${kRed}^${kReset}`);
  }
  return out;
}

function describe(v: unknown): string {
  try {
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}
