// The one place where convkit decides what runs fused. Sequential compiles
// its layers here once, when it is built, into an immutable list of steps
// (and, for the zoo's kind of CNN, a whole-model pass); the layers never
// learn who their neighbours are.
import { Conv2D } from '../../nn/layers/conv.js';
import { Dense } from '../../nn/layers/dense.js';
import { Flatten, ReLU } from '../../nn/layers/activation.js';
import type { Layer } from '../../nn/layers/layer.js';
import { MaxPool2D } from '../../nn/layers/pool.js';
import { MAX_CHAIN_BLOCKS } from '../../backend/backend.js';
import { ChainPass } from './chain.js';
import { ConvReluPoolStep, ConvReluStep, DenseStep, LayerStep, type Step } from './steps.js';

export interface ExecutionPlan {
  /** The steps that compute the logits, in order. */
  readonly steps: readonly Step[];
  /** The same numbers in one backend call, when the model is blocks → Flatten → Dense; else null. */
  readonly chain: ChainPass | null;
}

/**
 * Conv2D → ReLU → MaxPool2D and Conv2D → ReLU become one step each (the
 * same numbers, fewer passes over memory); every other layer is its own
 * step. `layers` are the ones that produce the logits.
 */
export function compilePlan(layers: readonly Layer[]): ExecutionPlan {
  const steps: Step[] = [];
  for (let i = 0; i < layers.length; i++) {
    const [layer, next, after] = [layers[i], layers[i + 1], layers[i + 2]];
    if (layer instanceof Conv2D && next instanceof ReLU) {
      if (after instanceof MaxPool2D) {
        steps.push(new ConvReluPoolStep(layer, next, after));
        i += 2;
      } else {
        steps.push(new ConvReluStep(layer, next));
        i += 1;
      }
    } else steps.push(layer instanceof Dense ? new DenseStep(layer) : new LayerStep(layer));
  }
  return Object.freeze({ steps: Object.freeze(steps), chain: chainOf(steps) });
}

/** Tiling blocks (at most MAX_CHAIN_BLOCKS: longer chains run step by step, with the same numbers), then Flatten and Dense. */
function chainOf(steps: readonly Step[]): ChainPass | null {
  const count = steps.length - 2;
  if (count < 1 || count > MAX_CHAIN_BLOCKS) return null;
  const blocks = steps.slice(0, count);
  if (!blocks.every((s): s is ConvReluPoolStep => s instanceof ConvReluPoolStep && s.tiles)) return null;
  const [flatten, head] = [steps[count], steps[count + 1]];
  if (!(flatten instanceof LayerStep && flatten.layer instanceof Flatten && head instanceof DenseStep)) return null;
  return new ChainPass(blocks, head);
}
