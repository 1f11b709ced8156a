// Every entry point the addon exports (exports.cc names them for
// JavaScript). Each checks its arguments (args.h) and calls a kernel. The
// calling convention is the kernels': outputs first, then inputs, then
// options, sizes last (a geometry as one Int32Array).
#pragma once

#include <napi.h>

namespace convkit::binding {

using Entry = Napi::Value(const Napi::CallbackInfo&);

// conv.cc
Entry Conv2d, Conv2dBackwardData, Conv2dBackwardFilter, Conv2dReluPool, Conv2dReluPoolBackward;
// pool.cc
Entry MaxPool2d, MaxPool2dBackward, AvgPool2d, AvgPool2dBackward;
// dense.cc
Entry Dense, DenseBackward;
// elementwise.cc
Entry BytesToFloats, Add, Relu, ReluBackward, LeakyRelu, LeakyReluBackward, Sigmoid, SigmoidBackward, Tanh, TanhBackward,
    Softmax, SoftmaxBackward;
// norm.cc
Entry BatchNormTrainForward, BatchNormInferForward, BatchNormBackward;
// loss.cc
Entry SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy;
// chain.cc
Entry ConvChainForward, ConvChainTrainPass;
// optim.cc
Entry SgdStep, AdamStep;
// runtime.cc
Entry Info, MeasurePeak, SetIsa, SetNumThreads, SetSchedule, SetConvAlgorithm;

}  // namespace convkit::binding
