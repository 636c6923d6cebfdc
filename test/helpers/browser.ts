/** Headless Chromium from Debian (never a downloaded browser), as the tests and the probe use it. */
import { chromium, type Browser } from 'playwright-core';

export const kChromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: kChromium,
    // Without the background-networking flags Chromium keeps trying Google's hosts, which this
    // machine's closed network refuses; they would also show up as "external requests".
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Whether a URL stays on this machine: the file system, inline data, or localhost. */
export function isLocalUrl(url: string): boolean {
  if (/^(file|data|blob|about):/.test(url)) return true;
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  } catch {
    return false;
  }
}
