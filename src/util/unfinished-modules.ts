/**
 * Forgets modules whose loading was cut off. An interrupt that has to terminate the main
 * thread's JavaScript (protocol/interrupter.ts, Runtime.terminateExecution) can land inside a
 * require(): V8 unwinds without running Node's clean-up, so the half-made module stays in
 * require's cache, and every later require of it gets its unfinished exports (Node warns
 * "Accessing non-existent property … inside circular dependency"). The kernel's lazily loaded
 * compilers (TypeScript is some 9 MB of JavaScript) are the likeliest to be caught so.
 */
export function dropUnfinishedModules(): string[] {
  const dropped: string[] = [];
  for (const [id, m] of Object.entries(require.cache)) {
    if (m && !m.loaded) {
      delete require.cache[id];
      dropped.push(id);
    }
  }
  return dropped;
}
