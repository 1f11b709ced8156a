// Keras's model.summary() table, for any model.
import type { Layer, Parameter } from '../nn/layers/layer.js';

const size = (ps: readonly Parameter[]) => ps.reduce((n, p) => n + p.value.size, 0);

/**
 * The table: each layer's name and kind, output shape and weights (Keras's
 * count: trainable and not together), what it takes (for a graph), and the
 * totals, frozen layers' weights among the non-trainable ones.
 */
export function summaryTable(title: string, layers: readonly Layer[], links: string[] | null, trainable: number, weights: readonly Parameter[]): string {
  const rows = layers.map((l, i) => [
    `${l.name} (${l.kind})`, `(None, ${l.outputShape.join(', ')})`, size([...l.parameters(), ...l.stateTensors()]).toLocaleString('en-US'),
    ...(links ? [`  ${links[i]}`] : []),
  ]);
  const head = ['Layer (type)', 'Output Shape', 'Param #', ...(links ? ['  Connected to'] : [])];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
  const line = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('').trimEnd();
  const total = size(weights);
  const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0));
  return [
    title,
    rule('_'),
    line(head),
    rule('='),
    ...rows.map(line),
    rule('='),
    `Total params: ${total.toLocaleString('en-US')} (${(total * 4 / 1024).toFixed(2)} KB)`,
    `Trainable params: ${trainable.toLocaleString('en-US')}`,
    `Non-trainable params: ${(total - trainable).toLocaleString('en-US')}`,
  ].join('\n');
}
