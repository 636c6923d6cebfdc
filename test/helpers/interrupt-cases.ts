/**
 * The ways a cell gets stuck that an interrupt must end, each writing a marker file once it is
 * about to get stuck (so the test interrupts a cell that is really stuck there, not one still
 * compiling). Shared by the tests that interrupt through each client.
 */
import { touch } from './wait.js';

export interface StuckCell {
  readonly name: string;
  code(marker: string): string;
}

export const kStuckCells: readonly StuckCell[] = [
  { name: 'a busy loop: while(true){}', code: (m) => `${touch(m)};\nwhile (true) {}` },
  { name: 'a promise that never settles', code: (m) => `${touch(m)};\nawait new Promise(() => {});` },
  { name: 'Atomics.wait on a value that never changes', code: (m) => `${touch(m)};\nAtomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);` },
  { name: 'a busy loop after an await: await sleep(50); while(true){}', code: (m) => `await sleep(50);\n${touch(m)};\nwhile (true) {}` },
];
