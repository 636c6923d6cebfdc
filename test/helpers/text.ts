/** Text of kernel outputs, as a reader sees it. */

/** Removes ANSI colour codes (tracebacks are coloured). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

/** A traceback (list of lines) as plain text. */
export function tracebackText(traceback: readonly string[] | undefined): string {
  return stripAnsi((traceback ?? []).join('\n'));
}
