/**
 * Node options of the kernel process (the kernelspec's too):
 * - --no-force-async-hooks-checks: see protocol/interrupter.ts;
 * - a young generation of 48 MiB semi-spaces (Node 20: 16): each cell's type check builds a whole
 *   program that lives until the cell ends; in a small young generation scavenges copy it again
 *   and again and promote it, and the old generation's concurrent marking then costs the helper
 *   threads more than the cell itself. The kernel bench (a new distinct cell, RSS after 200
 *   cells) measures both sides of this.
 */
export const kKernelNodeOptions: readonly string[] = ['--no-force-async-hooks-checks', '--max-semi-space-size=48'];
