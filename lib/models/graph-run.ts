// How a functional model runs: its nodes cut into segments, each a chain
// of one-input layers compiled by the execution plan (so Conv → ReLU fuses
// in a graph as in a stack) or one merge layer; forward in order, backward
// in reverse, adding the gradients of a value that feeds several layers.
import { getBackend } from '../backend/select.js';
import { Tensor } from '../core/tensor.js';
import { Buffers, type Layer, type Parameter, type SampleShape } from '../nn/layers/layer.js';
import { accumulatedParameters } from '../nn/layers/kinds.js';
import { MergeLayer } from '../nn/layers/merge.js';
import { type ExecutionPlan, compilePlan } from './plan/compile.js';

/** A layer at one place of the graph: the values it takes and the one it makes (ids: the inputs first, then each node's output). */
export interface GraphNode {
  readonly layer: Layer;
  readonly inputs: readonly number[];
  readonly output: number;
}

type Segment =
  | { readonly kind: 'chain'; readonly source: number; readonly output: number; readonly layers: readonly Layer[]; readonly plan: ExecutionPlan }
  | { readonly kind: 'merge'; readonly sources: readonly number[]; readonly output: number; readonly layer: MergeLayer };

/**
 * The compiled form of a graph. `nodes` are in an order where every value is
 * made before it is taken; `logits` are the values training and inference
 * return. Values feed at most what the nodes say: nothing is kept for a
 * value no node or output takes.
 */
export class GraphRun {
  private readonly segments: Segment[] = [];
  /** Parameters of custom layers, whose backward may add into the gradient: zeroed before each backward. */
  private readonly accumulated: Parameter[];
  private readonly values: (Tensor | null)[];
  private readonly grads: (Tensor | null)[];
  private readonly sums = new Buffers();

  constructor(nodes: readonly GraphNode[], private readonly inputCount: number, private readonly logits: readonly number[], private readonly shapes: readonly SampleShape[]) {
    this.accumulated = accumulatedParameters(nodes.map((n) => n.layer));
    const consumers = new Array<number>(shapes.length).fill(0);
    for (const node of nodes) for (const v of node.inputs) consumers[v]++;
    for (const v of logits) consumers[v]++;
    const byInput = new Map<number, GraphNode>();
    for (const node of nodes) if (node.inputs.length === 1) byInput.set(node.inputs[0], node);
    const placed = new Set<GraphNode>();
    for (const node of nodes) {
      if (placed.has(node)) continue;
      placed.add(node);
      if (node.layer instanceof MergeLayer) {
        this.segments.push({ kind: 'merge', sources: node.inputs, output: node.output, layer: node.layer });
        continue;
      }
      // A chain goes on while its value feeds exactly one one-input layer and is no output.
      const layers = [node.layer];
      let last = node;
      for (;;) {
        const next = consumers[last.output] === 1 && !logits.includes(last.output) ? byInput.get(last.output) : undefined;
        if (!next || next.layer instanceof MergeLayer || placed.has(next)) break;
        placed.add(next);
        layers.push(next.layer);
        last = next;
      }
      this.segments.push({ kind: 'chain', source: node.inputs[0], output: last.output, layers, plan: compilePlan(layers) });
    }
    this.values = new Array<Tensor | null>(shapes.length).fill(null);
    this.grads = new Array<Tensor | null>(shapes.length).fill(null);
  }

  /** The whole graph is one chain from its one input (a stack written as a graph): its plan may have a whole-model pass. */
  get singleChain(): ExecutionPlan | null {
    const [only] = this.segments;
    return this.segments.length === 1 && only.kind === 'chain' && this.inputCount === 1 ? only.plan : null;
  }

  /** The logits of every output for these inputs (valid until the next forward). */
  forward(inputs: readonly Tensor[], training: boolean): Tensor[] {
    const values = this.values;
    inputs.forEach((x, i) => (values[i] = x));
    for (const seg of this.segments) {
      if (seg.kind === 'merge') {
        values[seg.output] = seg.layer.forwardInputs(seg.sources.map((v) => values[v]!), training);
        continue;
      }
      let y = values[seg.source]!;
      for (const step of seg.plan.steps) y = step.forward(y, training);
      values[seg.output] = y;
    }
    return this.logits.map((v) => values[v]!);
  }

  /**
   * From dLoss/dLogits of each output (null: that output adds nothing) to
   * every parameter's gradient. A layer no gradient reaches gets zeros.
   * With inputGradients, also dLoss/dInput of each model input (null for
   * one no gradient reaches); valid until the next backward.
   */
  backward(dLogits: readonly (Tensor | null)[], inputGradients = false): (Tensor | null)[] {
    const grads = this.grads.fill(null);
    for (const p of this.accumulated) p.grad.data.fill(0);
    dLogits.forEach((d, k) => d && this.accumulate(this.logits[k], d));
    for (let s = this.segments.length - 1; s >= 0; s--) {
      const seg = this.segments[s];
      const g = grads[seg.output];
      if (!g) {
        for (const layer of seg.kind === 'chain' ? seg.layers : [seg.layer]) for (const p of layer.parameters()) p.grad.data.fill(0);
        continue;
      }
      if (seg.kind === 'merge') {
        const ds = seg.layer.backwardInputs(g, seg.sources.map((v) => inputGradients || v >= this.inputCount));
        ds.forEach((d, i) => d && this.accumulate(seg.sources[i], d));
        continue;
      }
      const steps = seg.plan.steps;
      const needSource = inputGradients || seg.source >= this.inputCount;
      let d: Tensor | null = g;
      for (let i = steps.length - 1; i >= 0 && d; i--) d = steps[i].backward(d, i > 0 || needSource);
      if (d && needSource) this.accumulate(seg.source, d);
    }
    return inputGradients ? grads.slice(0, this.inputCount) : [];
  }

  /** Adds a gradient of value v: the first is kept as it is (no copy), a second one sums into the graph's own buffer for v. */
  private accumulate(v: number, d: Tensor): void {
    const held = this.grads[v];
    if (!held) {
      this.grads[v] = d;
      return;
    }
    const sum = this.sums.get(`g${v}`, d.size);
    getBackend().add(sum, held.data, d.data);
    this.grads[v] = new Tensor(sum, [d.shape[0], ...this.shapes[v]]);
  }
}
