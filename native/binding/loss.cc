// Loss entry points.
#include "args.h"
#include "entries.h"

#include "kernels/loss/loss.h"

namespace convkit::binding {

// softmaxCrossEntropy(probs, dLogits, logits, labels, rows, cols) -> loss
Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 6, "softmaxCrossEntropy");
  const RowsCols rc = rows_cols(info, 4);
  if (rc.rows < 1) range_error(env, "rows must be at least 1");
  Floats logits = floats_of(info, 2, "logits", rc.rows * rc.cols);
  const int32_t* l = labels_of(info, 3, rc.rows, rc.cols);
  Floats probs = floats_of(info, 0, "probs", rc.rows * rc.cols);
  Floats d = floats_of(info, 1, "dLogits", rc.rows * rc.cols);
  return Napi::Number::New(env, convkit::softmax_cross_entropy(probs.data, d.data, logits.data, l, rc.rows, rc.cols));
}

// sigmoidBinaryCrossEntropy(dLogits, logits, targets) -> loss
Napi::Value SigmoidBinaryCrossEntropy(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "sigmoidBinaryCrossEntropy");
  Floats logits = floats(info, 1, "logits");
  if (logits.length < 1) range_error(info.Env(), "logits must not be empty");
  Floats targets = floats_of(info, 2, "targets", logits.length);
  Floats d = floats_of(info, 0, "dLogits", logits.length);
  return Napi::Number::New(info.Env(), convkit::sigmoid_binary_cross_entropy(d.data, logits.data, targets.data, logits.length));
}

}  // namespace convkit::binding
