/**
 * What the kernel's main thread and its I/O thread say to each other.
 *
 * The I/O thread owns the ZeroMQ sockets, so heartbeats, kernel_info and interrupt requests are
 * answered even while a cell keeps the main thread busy. The main thread runs cells and tells
 * the I/O thread what to send.
 */
import type { Channel, Message, MessageHeader } from './messages.js';

/** Layout of the SharedArrayBuffer both threads see. */
export const enum SharedSlot {
  /** One of ExecState. Written by main, read by the I/O thread to choose how to interrupt. */
  ExecState = 0,
  /** The last interrupt sequence number main has handled. */
  InterruptAck = 1,
}
export const kSharedSlots = 2;

export const enum ExecState {
  Idle = 0,
  /** Kernel code is busy (compiling a cell): an interrupt waits for it rather than cutting it. */
  KernelBusy = 1,
  /** User code may be running: an interrupt that is not acknowledged quickly cuts it off. */
  UserCode = 2,
}

export interface KernelInfoContent {
  [key: string]: unknown;
}

export interface IoThreadData {
  connectionFile: string;
  shared: SharedArrayBuffer;
  kernelInfo: KernelInfoContent;
  /** Session id used in the headers of messages the kernel sends. */
  session: string;
}

/** I/O thread → main. */
export type ToMain =
  | { t: 'listening' }
  /** `receivedAt`: when the I/O thread received it (ms since epoch, sub-millisecond), for stop_on_error. */
  | { t: 'request'; token: number; channel: Channel; msg: Message; receivedAt: number }
  | { t: 'interrupt'; seq: number }
  | { t: 'shutdown'; restart: boolean }
  | { t: 'closed' }
  | { t: 'fatal'; message: string };

/** Main → I/O thread. */
export type ToIo =
  | { t: 'reply'; token: number; msgType: string; content: Record<string, unknown>; metadata?: Record<string, unknown> }
  | { t: 'iopub'; parent: MessageHeader | null; msgType: string; content: Record<string, unknown>; metadata?: Record<string, unknown> }
  | { t: 'stream'; parent: MessageHeader | null; name: 'stdout' | 'stderr'; text: string }
  | { t: 'shutdown-done'; restart: boolean }
  | { t: 'close' }
  /** Several of the above, in order (main sends what one task produced in one message). */
  | { t: 'batch'; items: ToIo[] };
