// Activations and their backwards, element by element over n values.
// Backwards of sigmoid and tanh take the forward's output y, the others its input x.
#pragma once

namespace convkit {

// y = a + b (y may be a): the join of a residual block and a gradient that fans in.
void add(float* y, const float* a, const float* b, long n);
void relu_forward(float* y, const float* x, long n);
void relu_backward(float* dx, const float* dy, const float* x, long n);
void leaky_relu_forward(float* y, const float* x, float alpha, long n);
void leaky_relu_backward(float* dx, const float* dy, const float* x, float alpha, long n);
void sigmoid_forward(float* y, const float* x, long n);
void sigmoid_backward(float* dx, const float* dy, const float* y, long n);
void tanh_forward(float* y, const float* x, long n);
void tanh_backward(float* dx, const float* dy, const float* y, long n);

// Softmax over the last axis of x[rows, cols]; the backward takes y = softmax(x).
void softmax_forward(float* y, const float* x, long rows, int cols);
void softmax_backward(float* dx, const float* dy, const float* y, long rows, int cols);

}  // namespace convkit
