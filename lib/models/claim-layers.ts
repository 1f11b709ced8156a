// Naming a model's layers and holding each layer to one model.
import { ValueError } from '../core/errors.js';
import type { Layer } from '../nn/layers/layer.js';

/** Which model each layer object belongs to. */
const owners = new WeakMap<Layer, string>();

/**
 * Names the unnamed layers `${kind}_${n}` (Keras's way), refuses two of one
 * name and layers another model holds: a layer keeps its weights and
 * buffers, so training one model would change the other. `shared` are the
 * exceptions a functional model is built on on purpose (another model's
 * layers reached through their symbolic outputs, Keras's transfer learning):
 * they keep their owner and their weights.
 */
export function claimLayers(layers: readonly Layer[], model: string, fn: string, claimed: readonly Layer[] = [], shared: ReadonlySet<Layer> = new Set()): void {
  layers.forEach((layer, i) => {
    const owner = owners.get(layer);
    if (owner && !shared.has(layer)) throw new ValueError(`${fn}: ${fn.endsWith('.add') ? 'the layer' : `layers[${i}]`} (${layer.kind}${layer.name ? ` '${layer.name}'` : ''}) belongs to model '${owner}' already; make a new layer for each model`);
  });
  // Layers the model holds already (Sequential.add) keep their names; new ones are named around them.
  const all = [...claimed, ...layers];
  const counts = new Map<string, number>();
  const names = new Set<string>(claimed.map((l) => l.name));
  for (const layer of claimed) counts.set(layer.kind, (counts.get(layer.kind) ?? 0) + 1);
  for (const layer of layers) {
    if (!layer.name) {
      let n = counts.get(layer.kind) ?? 0;
      do n++;
      while (all.some((l) => l.name === `${layer.kind.toLowerCase()}_${n}`));
      counts.set(layer.kind, n);
      layer.name = `${layer.kind.toLowerCase()}_${n}`;
    }
    if (names.has(layer.name)) throw new ValueError(`${fn}: two layers are named '${layer.name}'`);
    names.add(layer.name);
  }
  for (const layer of layers) if (!shared.has(layer)) owners.set(layer, model);
}

/** The model a layer belongs to, or undefined. */
export const ownerOf = (layer: Layer): string | undefined => owners.get(layer);
