import { defineConfig } from 'vitest/config';

// Tests drive the built package (dist/), real Jupyter clients and real processes:
// files run in separate forks, two at a time, because the machine has two cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
