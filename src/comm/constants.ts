/**
 * MPI's special values, with Open MPI's numbers so that ranks, tags and statuses read the same
 * on every transport (the later Open MPI transport passes them through unchanged).
 */

/** Receive from whichever rank sends first. */
import { sharedSymbol } from '../util/global-object.js';

export const ANY_SOURCE = -1;
/** Receive a message with any tag. */
export const ANY_TAG = -1;
/** The rank that is not there: sends to it do nothing, receives from it complete at once, empty. */
export const PROC_NULL = -2;
/** The colour of `split` for ranks that join no new communicator (they get null). */
export const UNDEFINED = -32766;
/** Largest tag a program may use. */
export const TAG_UB = 0x7fffffff;
/** Pass as the send buffer of Reduce/Allreduce/Gather to use the receive buffer's contents. */
export const IN_PLACE: unique symbol = sharedSymbol('IN_PLACE') as never;
export type InPlace = typeof IN_PLACE;
