/** Durations as IPython prints them: three significant digits, in s, ms, µs or ns. */
export function formatSeconds(seconds: number, precision = 3): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds >= 60) {
    const m = Math.floor(seconds / 60);
    const s = seconds - m * 60;
    return `${m}min ${s.toPrecision(precision)} s`;
  }
  const units: [string, number][] = [['s', 1], ['ms', 1e-3], ['µs', 1e-6], ['ns', 1e-9]];
  for (const [unit, scale] of units) {
    if (seconds >= scale || unit === 'ns') return `${Number((seconds / scale).toPrecision(precision))} ${unit}`;
  }
  return `${seconds} s`;
}

/** Formats durations in the one unit that suits `reference` (a table's column keeps its unit). */
export function secondsIn(reference: number, precision = 3): (seconds: number) => string {
  const units: [string, number][] = [['s', 1], ['ms', 1e-3], ['µs', 1e-6], ['ns', 1e-9]];
  const [unit, scale] = units.find(([, s]) => reference >= s) ?? units[units.length - 1]!;
  return (seconds) => `${Number((seconds / scale).toPrecision(precision))} ${unit}`;
}
