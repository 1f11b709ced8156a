// A model that is nothing but Conv2D → ReLU → tiling MaxPool2D blocks, a
// Flatten and a Dense head runs as one backend call per batch: inference
// (convChainForward) and, under softmax cross-entropy, a whole training pass
// (convChainTrainPass). The native backend then starts its threads once a
// step instead of once a layer, and each thread carries its images through
// every layer. The numbers are those of the steps run one by one.
import type { ConvChainBlock, ConvChainForwardBlock } from '../../backend/backend.js';
import { getBackend } from '../../backend/select.js';
import { Buffers } from '../../nn/layers/layer.js';
import type { SoftmaxCrossEntropy } from '../../nn/losses.js';
import { Tensor } from '../../core/tensor.js';
import type { ConvReluPoolStep, DenseStep } from './steps.js';

export { MAX_CHAIN_BLOCKS } from '../../backend/backend.js';

export class ChainPass {
  private readonly buffers = new Buffers();

  private readonly head;

  constructor(readonly blocks: readonly ConvReluPoolStep[], readonly headStep: DenseStep) {
    this.head = headStep.dense;
  }

  /** Each block's descriptor for x; block i reads block i - 1's pooled output. Returns the head's input, flattened. */
  private describe<B>(x: Tensor, block: (step: ConvReluPoolStep, input: Tensor, i: number) => B): { blocks: B[]; features: Tensor } {
    const n = x.shape[0];
    let input = x;
    const blocks = this.blocks.map((step, i) => {
      const b = block(step, input, i);
      input = step.lastOutput;
      return b;
    });
    return { blocks, features: input.reshape([n, this.head.inputShape[0]]) };
  }

  private logitsFor(n: number): Tensor {
    const units = this.head.outputShape[0];
    return new Tensor(this.buffers.get('logits', n * units), [n, units]);
  }

  /** Inference: the logits [N, units], valid until the next pass. */
  forward(x: Tensor): Tensor {
    const n = x.shape[0];
    const { blocks, features } = this.describe<ConvChainForwardBlock>(x, (step, input) => step.chainForwardBlock(input));
    this.headStep.ranOn(features);
    const logits = this.logitsFor(n);
    const { head } = this;
    getBackend().convChainForward(blocks, { w: head.weight.value.data, b: head.bias ? head.bias.value.data : null, logits: logits.data }, x.data, head.outputShape[0]);
    return logits;
  }

  /** A training pass without the optimizer: every parameter's gradient filled; the mean loss and the logits. */
  trainPass(x: Tensor, labels: Int32Array, loss: SoftmaxCrossEntropy): { loss: number; logits: Tensor } {
    const n = x.shape[0];
    const { blocks, features } = this.describe<ConvChainBlock>(x, (step, input, i) => step.chainBlock(input, i > 0));
    this.headStep.ranOn(features);
    const logits = this.logitsFor(n);
    const { head } = this;
    const { probs, d } = loss.outputsFor(logits.size);
    const value = getBackend().convChainTrainPass(blocks, {
      w: head.weight.value.data, b: head.bias ? head.bias.value.data : null, logits: logits.data,
      dx: this.buffers.get('dFeatures', features.size), dw: head.weight.grad.data, db: head.bias ? head.bias.grad.data : null,
    }, probs, d, x.data, labels, head.outputShape[0]);
    return { loss: value, logits };
  }
}
