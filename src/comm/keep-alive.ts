/**
 * Pending Atomics.waitAsync promises and unref'd sockets do not keep Node's event loop alive,
 * so a rank waiting for a message would simply exit. While any wait sleeps, one ref'd timer
 * holds the loop open; otherwise the rank ends when its own work does (scripts rely on that).
 */
let timer: NodeJS.Timeout | undefined;
let holds = 0;

export function holdLoop(): void {
  if (holds++ === 0) (timer ??= setInterval(() => {}, 1 << 30)).ref();
}

export function releaseLoop(): void {
  if (--holds === 0) timer!.unref();
}
