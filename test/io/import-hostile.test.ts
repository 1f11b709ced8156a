// Imports that must be refused with a clear error, never a crash, a read
// outside the model's folder or an allocation of what a file merely claims:
// broken manifests, short shards, shapes that disagree with the topology,
// layers and operators convkit does not have, absurd sizes.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError, LimitError, loadKerasModel, loadLayersModel, loadOnnxModel, ShapeError } from '../../lib/index.js';
import { onnxModelProto } from '../../lib/interchange/onnx.js';

const fixtures = join(import.meta.dirname, '../fixtures/import');
const dir = mkdtempSync(join(tmpdir(), 'convkit-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type ModelJson = { format?: string; modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }; weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string; quantization?: unknown }[] }[] };
const original = (): ModelJson => JSON.parse(readFileSync(join(fixtures, 'tfjs-seq/model.json'), 'utf8'));
let n = 0;

/** A copy of the tfjs fixture with model.json changed by edit (and the shard by shard). */
function variant(edit: (m: ModelJson) => void, shard?: (b: Buffer) => Buffer): string {
  const d = join(dir, `v${n++}`);
  cpSync(join(fixtures, 'tfjs-seq'), d, { recursive: true });
  const m = original();
  edit(m);
  writeFileSync(join(d, 'model.json'), JSON.stringify(m));
  if (shard) writeFileSync(join(d, 'weights.bin'), shard(readFileSync(join(d, 'weights.bin'))));
  return join(d, 'model.json');
}

describe('a hostile tfjs LayersModel', () => {
  const cases: [string, () => string, new (...a: never[]) => Error, RegExp][] = [
    ['weights shorter than the manifest says', () => variant(() => {}, (b) => b.subarray(0, b.length - 8)), FormatError, /hold 2564 bytes; the manifest's weights need 2572/],
    ['weights longer than the manifest says', () => variant(() => {}, (b) => Buffer.concat([b, Buffer.alloc(4)])), FormatError, /hold 2576 bytes; the manifest's weights need 2572/],
    ['a shard path that leaves the folder', () => variant((m) => (m.weightsManifest[0].paths = ['../../../etc/passwd'])), FormatError, /the weights path '\.\.\/\.\.\/\.\.\/etc\/passwd' leaves the model's folder/],
    ['an absolute shard path', () => variant((m) => (m.weightsManifest[0].paths = ['/etc/passwd'])), FormatError, /is not relative to the model's folder/],
    ['a URL for a shard', () => variant((m) => (m.weightsManifest[0].paths = ['https://example.com/w.bin'])), FormatError, /is not relative to the model's folder/],
    ['a shape that disagrees with the topology', () => variant((m) => (m.weightsManifest[0].weights[0].shape = [3, 3, 3, 5])), ShapeError, /the weight 'conv_a\/kernel' has shape \[3, 3, 3, 5\] but Conv2D 'conv_a' needs \[3, 3, 3, 4\]/],
    ['a missing weight', () => variant((m) => m.weightsManifest[0].weights.splice(1, 1)), FormatError, /the weight 'conv_a\/bias' of Conv2D 'conv_a' is missing/],
    ['a weight of no layer', () => variant((m) => m.weightsManifest[0].weights.push({ name: 'ghost/kernel', shape: [0], dtype: 'float32' })), FormatError, /weights ghost\/kernel belong to no layer of the model/],
    ['an unknown layer class', () => variant((m) => (m.modelTopology.config.layers[1] = { class_name: 'Lambda', config: { name: 'mystery' } })), FormatError, /layer 'mystery' \(Lambda\) is not supported; convkit imports InputLayer, Conv2D, Dense, BatchNormalization/],
    ['an activation convkit lacks', () => variant((m) => (m.modelTopology.config.layers[0].config.activation = 'gelu')), FormatError, /layer 'conv_a' \(Conv2D\): activation 'gelu' \(string\) is not supported; supported: linear, relu/],
    ['a dilated convolution', () => variant((m) => (m.modelTopology.config.layers[0].config.dilation_rate = [2, 2])), FormatError, /dilation_rate \[2, 2\] \(array\) is not supported yet/],
    ['channels_first data', () => variant((m) => (m.modelTopology.config.layers[0].config.data_format = 'channels_first')), FormatError, /data_format 'channels_first' \(string\) is not supported/],
    ['a huge declared size', () => variant((m) => (m.weightsManifest[0].weights[0].shape = [100000, 100000, 100])), LimitError, /the weights the manifest declares/],
    ['quantized weights', () => variant((m) => (m.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 1, min: 0 })), FormatError, /quantized weights are not supported/],
    ['int32 weights', () => variant((m) => (m.weightsManifest[0].weights[0].dtype = 'int32')), FormatError, /dtype 'int32' \(string\) is not supported; convkit's weights are float32/],
    ['a GraphModel', () => variant((m) => (m.format = 'graph-model')), FormatError, /a tfjs GraphModel.*convkit imports LayersModels/],
    ['a bad shape in the manifest', () => variant((m) => (m.weightsManifest[0].weights[0].shape = [-1, 3])), FormatError, /shape must list non-negative integers, got \[-1, 3\]/],
  ];
  for (const [what, make, type, message] of cases) {
    it(`refuses ${what}`, async () => {
      const path = make();
      await expect(loadLayersModel(path)).rejects.toThrow(type);
      await expect(loadLayersModel(path)).rejects.toThrow(message);
    });
  }

  it('refuses a model.json that is not JSON, or has no topology', async () => {
    writeFileSync(join(dir, 'text.json'), 'not json');
    await expect(loadLayersModel(join(dir, 'text.json'))).rejects.toThrow(/text.json: not valid JSON/);
    writeFileSync(join(dir, 'empty.json'), '{"weightsManifest": []}');
    await expect(loadLayersModel(join(dir, 'empty.json'))).rejects.toThrow(/no modelTopology; not a LayersModel model.json/);
  });

  it('refuses a layer called twice (shared) and an unknown input', async () => {
    const res = JSON.parse(readFileSync(join(fixtures, 'tfjs-res/model.json'), 'utf8'));
    const d = join(dir, 'res');
    cpSync(join(fixtures, 'tfjs-res'), d, { recursive: true });
    const shared = structuredClone(res);
    shared.modelTopology.config.layers[1].inbound_nodes.push([['image', 0, 0, {}]]);
    writeFileSync(join(d, 'model.json'), JSON.stringify(shared));
    await expect(loadLayersModel(join(d, 'model.json'))).rejects.toThrow(/layer 'stem' \(Conv2D\): the layer is called 2 times \(a shared layer\)/);
    const dangling = structuredClone(res);
    dangling.modelTopology.config.layers[1].inbound_nodes = [[['nowhere', 0, 0, {}]]];
    writeFileSync(join(d, 'model.json'), JSON.stringify(dangling));
    await expect(loadLayersModel(join(d, 'model.json'))).rejects.toThrow(/takes 'nowhere', which is not a layer before it/);
  });
});

describe('a file that is not a Keras model', () => {
  it('says what is missing', async () => {
    await expect(loadKerasModel(join(import.meta.dirname, '../fixtures/hdf5/source.h5'))).rejects.toThrow(/without a model_config attribute: not a Keras model.save\(\) file/);
    writeFileSync(join(dir, 'junk.keras'), 'PK junk');
    await expect(loadKerasModel(join(dir, 'junk.keras'))).rejects.toThrow(FormatError);
  });
});

describe('a hostile ONNX model', () => {
  const encode = (graph: Record<string, unknown>) => {
    const proto = onnxModelProto();
    return proto.encode(proto.fromObject({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph })).finish();
  };
  const input = { name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 2 }, { dimValue: 4 }, { dimValue: 4 }] } } } };
  const output = { name: 'y', type: { tensorType: { elemType: 1 } } };
  const file = (name: string, bytes: Uint8Array) => {
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  };

  it('refuses bytes that are not ONNX', () => {
    expect(() => loadOnnxModel(file('noise.onnx', Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2])))).toThrow(/noise.onnx: not an ONNX model/);
  });

  it('names an operator it lacks, with the list of those it has', () => {
    const path = file('resize.onnx', encode({ node: [{ opType: 'Resize', input: ['x'], output: ['y'], name: 'up' }], input: [input], output: [output] }));
    expect(() => loadOnnxModel(path)).toThrow(/node 0 'up' \(Resize\): is not supported; convkit imports Conv, Gemm, MatMul/);
  });

  it('refuses a grouped convolution, external data and an initializer of absurd size before allocating it', () => {
    const weight = (dims: number[], extra: Record<string, unknown> = {}) => ({ name: 'w', dims, dataType: 1, rawData: new Uint8Array(dims.reduce((a, b) => a * b, 1) * 4 > 1e6 ? 4 : dims.reduce((a, b) => a * b, 1) * 4), ...extra });
    const conv = (attribute: unknown[] = []) => [{ opType: 'Conv', input: ['x', 'w'], output: ['y'], name: 'c', attribute }];
    expect(() => loadOnnxModel(file('group.onnx', encode({ node: conv([{ name: 'group', type: 2, i: 2 }]), initializer: [weight([2, 1, 3, 3])], input: [input], output: [output] })))).toThrow(/group 2 is not supported yet/);
    expect(() => loadOnnxModel(file('external.onnx', encode({ node: conv(), initializer: [weight([2, 2, 3, 3], { dataLocation: 1, rawData: new Uint8Array(0) })], input: [input], output: [output] })))).toThrow(/its data lives in an external file/);
    expect(() => loadOnnxModel(file('huge.onnx', encode({ node: conv(), initializer: [weight([100000, 100000, 3, 3])], input: [input], output: [output] })))).toThrow(LimitError);
    expect(() => loadOnnxModel(file('short.onnx', encode({ node: conv(), initializer: [{ ...weight([2, 2, 3, 3]), rawData: new Uint8Array(12) }], input: [input], output: [output] })))).toThrow(/12 bytes of raw data for dims \[2, 2, 3, 3\], which need 144/);
  });
});
