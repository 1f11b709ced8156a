export { Tensor, tensor, fromNested, zeros, full, isTensor, MAX_ELEMENTS } from './tensor.js';
export type { Shape } from './tensor.js';
export {
  ConvkitError, ShapeError, DTypeError, ValueError, FormatError, BackendError, LimitError,
} from './errors.js';
export * as ops from './ops/index.js';
export { getBackend, setBackend, setNumThreads, getNumThreads, setIsa, info } from './backend/select.js';
export type { BackendName, Info } from './backend/select.js';
export type { Backend } from './backend/backend.js';
