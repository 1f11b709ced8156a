// Element-wise entry points: activations, softmax, and bytes to floats.
#include "args.h"
#include "entries.h"

#include "kernels/elementwise/convert.h"
#include "kernels/elementwise/elementwise.h"

namespace convkit::binding {

// name(y, x)
template <void (*Kernel)(float*, const float*, long)>
Napi::Value Unary(const Napi::CallbackInfo& info) {
  expect_args(info, 2, "activation");
  Floats x = floats(info, 1, "x");
  Floats y = floats_of(info, 0, "y", x.length);
  Kernel(y.data, x.data, x.length);
  return info.Env().Undefined();
}

// nameBackward(dx, dy, saved)
template <void (*Kernel)(float*, const float*, const float*, long)>
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "activation backward");
  Floats dy = floats(info, 1, "dy");
  Floats saved = floats_of(info, 2, "x or y", dy.length);
  Floats dx = floats_of(info, 0, "dx", dy.length);
  Kernel(dx.data, dy.data, saved.data, dy.length);
  return info.Env().Undefined();
}

// bytesToFloats(y, x: Uint8Array, divisor)
Napi::Value BytesToFloats(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "bytesToFloats");
  Bytes x = bytes(info, 1, "x");
  Floats y = floats_of(info, 0, "y", x.length);
  const double divisor = number(info, 2, "divisor");
  if (divisor == 0.0) range_error(info.Env(), "divisor must not be 0");
  convkit::bytes_to_floats(y.data, x.data, static_cast<long>(x.length), static_cast<float>(divisor));
  return info.Env().Undefined();
}

// add(y, a, b): y may be a or b
Napi::Value Add(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "add");
  Floats a = floats(info, 1, "a");
  Floats b = floats_of(info, 2, "b", a.length);
  Floats y = floats_of(info, 0, "y", a.length);
  convkit::add(y.data, a.data, b.data, a.length);
  return info.Env().Undefined();
}

// leakyRelu(y, x, alpha)
Napi::Value LeakyRelu(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "leakyRelu");
  Floats x = floats(info, 1, "x");
  Floats y = floats_of(info, 0, "y", x.length);
  convkit::leaky_relu_forward(y.data, x.data, static_cast<float>(number(info, 2, "alpha")), x.length);
  return info.Env().Undefined();
}

// leakyReluBackward(dx, dy, x, alpha)
Napi::Value LeakyReluBackward(const Napi::CallbackInfo& info) {
  expect_args(info, 4, "leakyReluBackward");
  Floats dy = floats(info, 1, "dy");
  Floats x = floats_of(info, 2, "x", dy.length);
  Floats dx = floats_of(info, 0, "dx", dy.length);
  convkit::leaky_relu_backward(dx.data, dy.data, x.data, static_cast<float>(number(info, 3, "alpha")), dy.length);
  return info.Env().Undefined();
}

// softmax(y, x, rows, cols)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  expect_args(info, 4, "softmax");
  const RowsCols rc = rows_cols(info, 2);
  Floats x = floats_of(info, 1, "x", rc.rows * rc.cols);
  Floats y = floats_of(info, 0, "y", rc.rows * rc.cols);
  convkit::softmax_forward(y.data, x.data, rc.rows, rc.cols);
  return info.Env().Undefined();
}

// softmaxBackward(dx, dy, y, rows, cols)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  expect_args(info, 5, "softmaxBackward");
  const RowsCols rc = rows_cols(info, 3);
  Floats dy = floats_of(info, 1, "dy", rc.rows * rc.cols);
  Floats y = floats_of(info, 2, "y", rc.rows * rc.cols);
  Floats dx = floats_of(info, 0, "dx", rc.rows * rc.cols);
  convkit::softmax_backward(dx.data, dy.data, y.data, rc.rows, rc.cols);
  return info.Env().Undefined();
}

Napi::Value Relu(const Napi::CallbackInfo& info) { return Unary<convkit::relu_forward>(info); }
Napi::Value ReluBackward(const Napi::CallbackInfo& info) { return UnaryBackward<convkit::relu_backward>(info); }
Napi::Value Sigmoid(const Napi::CallbackInfo& info) { return Unary<convkit::sigmoid_forward>(info); }
Napi::Value SigmoidBackward(const Napi::CallbackInfo& info) { return UnaryBackward<convkit::sigmoid_backward>(info); }
Napi::Value Tanh(const Napi::CallbackInfo& info) { return Unary<convkit::tanh_forward>(info); }
Napi::Value TanhBackward(const Napi::CallbackInfo& info) { return UnaryBackward<convkit::tanh_backward>(info); }

}  // namespace convkit::binding
