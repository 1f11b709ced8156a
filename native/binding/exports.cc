// The addon's export list: JavaScript names for the entry points (entries.h).
#include <napi.h>

#include <mutex>

#include "cpu.h"
#include "entries.h"

namespace convkit::binding {
namespace {

struct Export {
  const char* name;
  Entry* entry;
};

constexpr Export kExports[] = {
    {"info", Info},
    {"setIsa", SetIsa},
    {"measurePeak", MeasurePeak},
    {"setNumThreads", SetNumThreads},
    {"setSchedule", SetSchedule},
    {"setConvAlgorithm", SetConvAlgorithm},
    {"conv2d", Conv2d},
    {"conv2dBackwardData", Conv2dBackwardData},
    {"conv2dBackwardFilter", Conv2dBackwardFilter},
    {"conv2dReluPool", Conv2dReluPool},
    {"conv2dReluPoolBackward", Conv2dReluPoolBackward},
    {"maxPool2d", MaxPool2d},
    {"maxPool2dBackward", MaxPool2dBackward},
    {"avgPool2d", AvgPool2d},
    {"avgPool2dBackward", AvgPool2dBackward},
    {"dense", Dense},
    {"denseBackward", DenseBackward},
    {"bytesToFloats", BytesToFloats},
    {"add", Add},
    {"relu", Relu},
    {"reluBackward", ReluBackward},
    {"leakyRelu", LeakyRelu},
    {"leakyReluBackward", LeakyReluBackward},
    {"sigmoid", Sigmoid},
    {"sigmoidBackward", SigmoidBackward},
    {"tanh", Tanh},
    {"tanhBackward", TanhBackward},
    {"softmax", Softmax},
    {"softmaxBackward", SoftmaxBackward},
    {"batchNormTrainForward", BatchNormTrainForward},
    {"batchNormInferForward", BatchNormInferForward},
    {"batchNormBackward", BatchNormBackward},
    {"softmaxCrossEntropy", SoftmaxCrossEntropy},
    {"sigmoidBinaryCrossEntropy", SigmoidBinaryCrossEntropy},
    {"convChainForward", ConvChainForward},
    {"convChainTrainPass", ConvChainTrainPass},
    {"sgdStep", SgdStep},
    {"adamStep", AdamStep},
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // The ISA is the process's, chosen once from CPUID: Init runs again for
  // every worker thread that loads the addon and must not undo a choice
  // (CONVKIT_ISA, setIsa) made before. The thread count is per instance
  // (kernels/parallel.h).
  static std::once_flag chosen;
  std::call_once(chosen, [] { convkit::set_isa(convkit::best_isa()); });
  for (const Export& e : kExports) exports.Set(e.name, Napi::Function::New(env, e.entry, e.name));
  return exports;
}

}  // namespace
}  // namespace convkit::binding

Napi::Object InitConvkit(Napi::Env env, Napi::Object exports) { return convkit::binding::Init(env, exports); }

NODE_API_MODULE(convkit, InitConvkit)
