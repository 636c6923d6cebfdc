/**
 * Syntax checks with V8's own parser (vm.Script compiles without running), so that what we
 * accept is exactly what a worker will be able to evaluate.
 */
import * as vm from 'node:vm';

export function checkSyntax(text: string): boolean {
  try {
    new vm.Script(text, { filename: 'tslab-ship-syntax-check.js' });
    return true;
  } catch {
    return false;
  }
}
