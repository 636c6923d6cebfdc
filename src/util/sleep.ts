/** `await sleep(ms)`: a pause that leaves the event loop free (output, interrupts keep flowing). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
