// Loading a state dict: every weight by name, each shape checked, nothing
// written until all of them agree.
import { checkBoolean, checkOptions, ownEntry } from '../core/check.js';
import { ShapeError, ValueError, describe, formatShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { Parameter } from '../nn/layers/layer.js';
import { checkTensor } from '../ops/check.js';

/** Copies state's tensors into params by name; every name and shape must match, and (strict, the default) no other key may be there. */
export function loadStateDictInto(params: readonly Parameter[], state: Record<string, Tensor>, options: { strict?: boolean }): void {
  checkOptions(options, ['strict'], 'loadStateDict');
  if (options.strict !== undefined) checkBoolean(options.strict, 'strict', 'loadStateDict');
  if (!state || typeof state !== 'object') throw new ValueError(`loadStateDict: state must be an object of tensors, got ${describe(state)}`);
  const tensors = params.map((p) => {
    const t = ownEntry(state, p.name);
    if (!t) throw new ShapeError(`loadStateDict: '${p.name}' is missing (have: ${Object.keys(state).join(', ') || 'nothing'})`);
    checkTensor(t, p.name, 'loadStateDict');
    if (t.shape.length !== p.value.shape.length || t.shape.some((d, i) => d !== p.value.shape[i])) {
      throw new ShapeError(`loadStateDict: '${p.name}' has shape ${formatShape(t.shape)} but the model expects ${formatShape(p.value.shape)}`);
    }
    return t;
  });
  if (options.strict !== false) {
    const known = new Set(params.map((p) => p.name));
    const extra = Object.keys(state).filter((k) => !known.has(k));
    if (extra.length) throw new ShapeError(`loadStateDict: unexpected keys ${extra.join(', ')}`);
  }
  params.forEach((p, i) => p.value.data.set(tensors[i].data));
}
