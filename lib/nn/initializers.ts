import { ValueError, describe } from '../core/errors.js';
import type { Random } from '../core/random.js';

/**
 * Weight initializers, each filling an array from a fan-in and fan-out.
 * he: N(0, 2 / fanIn), for ReLU layers (He et al. 2015).
 * glorot: U(-l, l), l = sqrt(6 / (fanIn + fanOut)), for tanh/sigmoid layers (Glorot & Bengio 2010).
 * gaussian: N(0, 1) times a scale (0.01 unless given), as the from-scratch courses do.
 * zeros: for biases.
 */
export type InitializerName = 'he' | 'glorot' | 'gaussian' | 'zeros';
/** How a layer's weights start: a name, or a Gaussian with its scale. */
export type Initializer = InitializerName | { name: 'gaussian'; scale: number };

/** Checks an initializer when a layer is made, not when it is built. */
export function checkInitializer(init: unknown, kind: string): Initializer {
  if (init === 'he' || init === 'glorot' || init === 'gaussian' || init === 'zeros') return init;
  if (init && typeof init === 'object' && (init as { name?: unknown }).name === 'gaussian') {
    const keys = Object.keys(init);
    const scale = (init as { scale?: unknown }).scale;
    if (keys.every((k) => k === 'name' || k === 'scale') && typeof scale === 'number' && Number.isFinite(scale) && scale > 0) return init as Initializer;
  }
  throw new ValueError(`${kind}: kernelInitializer must be 'he', 'glorot', 'gaussian', {name: 'gaussian', scale > 0} or 'zeros', got ${describe(init)}`);
}

export function initialize(init: Initializer, data: Float32Array, fanIn: number, fanOut: number, random: Random): void {
  const name = typeof init === 'string' ? init : init?.name;
  switch (name) {
    case 'he': {
      const std = Math.sqrt(2 / fanIn);
      for (let i = 0; i < data.length; i++) data[i] = random.normal() * std;
      return;
    }
    case 'glorot': {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < data.length; i++) data[i] = (random.next() * 2 - 1) * limit;
      return;
    }
    case 'gaussian': {
      const scale = typeof init === 'object' ? init.scale : 0.01;
      for (let i = 0; i < data.length; i++) data[i] = random.normal() * scale;
      return;
    }
    case 'zeros':
      data.fill(0);
      return;
    default:
      throw new ValueError(`initializer must be 'he', 'glorot', 'gaussian', {name: 'gaussian', scale} or 'zeros', got ${describe(init)}`);
  }
}
