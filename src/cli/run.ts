/**
 * `tslab-parallel run NOTEBOOK|DIR... [--output DIR] [--timeout S] [--allow-errors] [--strict]`:
 * executes notebooks top to bottom in a fresh kernel each (its own process, driven over the
 * Jupyter protocol; no Python needed), writes the executed notebooks (nbformat 4, outputs and
 * execution counts), prints a line per notebook, and fails when a cell fails. Shell commands
 * that failed inside cells (`!cmd` carries on after a non-zero exit) are counted in the line;
 * `--strict` makes them fail the run too.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { startKernel } from '../protocol/kernel-process.js';
import type { Message } from '../protocol/messages.js';
import { TimeoutError } from '../protocol/client.js';
import { kDisplayName, kKernelName } from './install.js';
import { OutputCollector, readNotebook, sourceText, writeNotebook, type Notebook } from './notebook.js';
import { describeShellFailures, shellFailures, type ShellFailures } from './shell-failures.js';

export interface RunOptions {
  readonly output?: string;
  /** Seconds a cell may run before it is interrupted and counted as failed. */
  readonly timeout: number;
  readonly allowErrors: boolean;
  /** Kernel command line (default: this kernel). */
  readonly kernelArgv?: readonly string[];
  readonly log?: (line: string) => void;
}

export interface NotebookRun {
  readonly path: string;
  readonly output: string;
  readonly cells: number;
  readonly errors: number;
  /** Shell commands that exited non-zero in cells, failed or not. */
  readonly shellFailures: ShellFailures;
  readonly seconds: number;
  readonly notebook: Notebook;
}

export function expandNotebooks(paths: readonly string[]): string[] {
  return paths.flatMap((p) => {
    const abs = resolve(p);
    if (statSync(abs).isDirectory()) {
      return readdirSync(abs).filter((f) => f.endsWith('.ipynb') && !f.startsWith('.')).sort().map((f) => join(abs, f));
    }
    return [abs];
  });
}

export async function runNotebook(path: string, options: RunOptions): Promise<NotebookRun> {
  const started = Date.now();
  const nb = readNotebook(path);
  const kernel = await startKernel({ cwd: dirname(path), argv: options.kernelArgv });
  let errors = 0;
  let cells = 0;
  try {
    const info = await kernel.client.kernelInfo();
    nb.metadata.kernelspec = { name: kKernelName, display_name: kDisplayName, language: 'typescript' };
    nb.metadata.language_info = (info.content as Record<string, unknown>).language_info;
    let stop = false;
    for (const cell of nb.cells) {
      if (cell.cell_type !== 'code') continue;
      if (stop) {
        cell.outputs = [];
        cell.execution_count = null;
        continue;
      }
      cells++;
      const collector = new OutputCollector();
      let reply: Message | undefined;
      try {
        const r = await kernel.client.execute(sourceText(cell.source), {
          onIopub: (m) => collector.add(m),
          timeoutMs: options.timeout * 1000,
          stopOnError: !options.allowErrors,
        });
        reply = r.reply;
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
        await kernel.client.interrupt().catch(() => undefined);
        collector.add(timeoutError(options.timeout));
      }
      cell.outputs = collector.stored();
      cell.execution_count = (reply?.content.execution_count as number | undefined) ?? null;
      const failed = !reply || reply.content.status !== 'ok';
      if (failed) {
        errors++;
        if (!options.allowErrors) stop = true;
      }
    }
  } finally {
    await kernel.stop();
  }
  const outDir = options.output ? resolve(options.output) : dirname(path);
  mkdirSync(outDir, { recursive: true });
  const output = options.output ? join(outDir, basename(path)) : path;
  writeNotebook(output, nb);
  return { path, output, cells, errors, shellFailures: shellFailures(nb.cells), seconds: (Date.now() - started) / 1000, notebook: nb };
}

function timeoutError(seconds: number): Message {
  const evalue = `the cell ran longer than ${seconds} s and was interrupted; raise --timeout if it needs longer`;
  return {
    header: { msg_id: '', msg_type: 'error', session: '', username: '', date: '', version: '5.3' },
    parent_header: {},
    metadata: {},
    content: { ename: 'CellTimeoutError', evalue, traceback: [`CellTimeoutError: ${evalue}`] },
    buffers: [],
  };
}

export async function runCommand(argv: string[]): Promise<number> {
  const paths: string[] = [];
  let output: string | undefined;
  let timeout = 600;
  let allowErrors = false;
  let strict = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--output' || a === '-o') output = argv[++i];
    else if (a === '--timeout') timeout = Number(argv[++i]);
    else if (a === '--allow-errors') allowErrors = true;
    else if (a === '--strict') strict = true;
    else if (a.startsWith('-')) throw new Error(`run: unknown option ${a} (valid: --output DIR, --timeout S, --allow-errors, --strict)`);
    else paths.push(a);
  }
  if (paths.length === 0) throw new Error('run needs at least one notebook or directory (e.g. tslab-parallel run notebooks --output build/notebooks)');
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error('run: --timeout must be a positive number of seconds');
  const notebooks = expandNotebooks(paths);
  if (notebooks.length === 0) throw new Error(`run: no .ipynb files in ${paths.join(', ')}`);
  let failed = 0;
  for (const nb of notebooks) {
    const r = await runNotebook(nb, { output, timeout, allowErrors });
    const status = r.errors === 0 ? 'ok' : `${r.errors} error${r.errors === 1 ? '' : 's'}`;
    const shell = r.shellFailures.count > 0 ? `, ${describeShellFailures(r.shellFailures)}` : '';
    console.log(`${nb}: ${r.cells} cells, ${status}${shell}, ${r.seconds.toFixed(1)} s -> ${r.output}`);
    if ((r.errors > 0 && !allowErrors) || (strict && r.shellFailures.count > 0)) failed++;
  }
  if (output) console.log(`Executed notebooks are in ${resolve(output)}`);
  if (strict && failed > 0) console.log('--strict: a failed shell command counts as a failure (run without --strict to only report it)');
  return failed > 0 ? 1 : 0;
}
