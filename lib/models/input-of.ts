// What one layer of a model takes when an input runs through it for
// inference: feature maps for class activation maps and probes.
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { Layer } from '../nn/layers/layer.js';
import type { GraphNode } from './graph-run.js';

/** Runs the logit graph on x up to `layer` and returns its (first) input. */
export function inputOfLayer(model: string, graph: { readonly nodes: readonly GraphNode[] }, x: Tensor, layer: Layer): Tensor {
  const values: Tensor[] = [x];
  for (const n of graph.nodes) {
    if (n.layer === layer) return values[n.inputs[0]];
    const ins = n.inputs.map((v) => values[v]);
    const merge = n.layer as Layer & { forwardInputs?: (xs: readonly Tensor[], training: boolean) => Tensor };
    values[n.output] = ins.length > 1 && merge.forwardInputs ? merge.forwardInputs(ins, false) : n.layer.forward(ins[0], false);
  }
  throw new ValueError(`${model}: layer '${layer?.name}' is not one of the model's logit layers`);
}
