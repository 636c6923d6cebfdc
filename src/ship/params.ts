/** Reads a function's parameter names from its source (for partial's named binding). */
import { analyzeSource, type ParameterInfo } from './free-names.js';

export function parameterList(fn: Function): readonly ParameterInfo[] {
  return analyzeSource(Function.prototype.toString.call(fn)).parameters;
}
