#include "pool.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "parallel.h"

namespace convkit {

namespace {

// The clipped window of output (oh, ow): input rows [h0, h1), columns [w0, w1).
struct Window {
  int h0, h1, w0, w1;
  int cells() const { return (h1 - h0) * (w1 - w0); }
};

inline Window window(const Geometry& g, int oh, int ow) {
  const int top = oh * g.stride_h - g.pad_top;
  const int left = ow * g.stride_w - g.pad_left;
  return {std::max(top, 0), std::min(top + g.k_h, g.in_h), std::max(left, 0), std::min(left + g.k_w, g.in_w)};
}

long pool_work(const Geometry& g) {
  return static_cast<long>(g.batch) * g.out_image() * g.k_h * g.k_w;
}

}  // namespace

void max_pool2d_forward(float* y, const float* x, const Geometry& g) {
  const int C = g.in_c;
  parallel_chunks(g.batch, pool_work(g), [&](long n0, long n1, int) {
    for (long n = n0; n < n1; ++n) {
      const float* xn = x + n * g.in_image();
      float* yn = y + n * g.out_image();
      for (int oh = 0; oh < g.out_h; ++oh)
        for (int ow = 0; ow < g.out_w; ++ow) {
          const Window win = window(g, oh, ow);
          float* out = yn + (static_cast<long>(oh) * g.out_w + ow) * C;
          bool first = true;
          for (int ih = win.h0; ih < win.h1; ++ih)
            for (int iw = win.w0; iw < win.w1; ++iw) {
              const float* in = xn + (static_cast<long>(ih) * g.in_w + iw) * C;
              if (first) {
                std::memcpy(out, in, sizeof(float) * C);
                first = false;
              } else {
                for (int c = 0; c < C; ++c) out[c] = in[c] > out[c] ? in[c] : out[c];
              }
            }
        }
    }
  });
}

void max_pool2d_backward(float* dx, const float* dy, const float* x, const Geometry& g) {
  const int C = g.in_c;
  parallel_chunks(g.batch, pool_work(g), [&](long n0, long n1, int) {
    thread_local std::vector<float> best;
    thread_local std::vector<long> where;
    if (best.size() < static_cast<std::size_t>(C)) {
      best.resize(C);
      where.resize(C);
    }
    for (long n = n0; n < n1; ++n) {
      const float* xn = x + n * g.in_image();
      const float* dyn = dy + n * g.out_image();
      float* dxn = dx + n * g.in_image();
      std::memset(dxn, 0, sizeof(float) * g.in_image());
      for (int oh = 0; oh < g.out_h; ++oh)
        for (int ow = 0; ow < g.out_w; ++ow) {
          const Window win = window(g, oh, ow);
          bool first = true;
          for (int ih = win.h0; ih < win.h1; ++ih)
            for (int iw = win.w0; iw < win.w1; ++iw) {
              const long offset = (static_cast<long>(ih) * g.in_w + iw) * C;
              const float* in = xn + offset;
              for (int c = 0; c < C; ++c) {
                if (first || in[c] > best[c]) {  // strict: ties keep the earlier cell
                  best[c] = in[c];
                  where[c] = offset + c;
                }
              }
              first = false;
            }
          const float* d = dyn + (static_cast<long>(oh) * g.out_w + ow) * C;
          for (int c = 0; c < C; ++c) dxn[where[c]] += d[c];
        }
    }
  });
}

void avg_pool2d_forward(float* y, const float* x, const Geometry& g) {
  const int C = g.in_c;
  parallel_chunks(g.batch, pool_work(g), [&](long n0, long n1, int) {
    for (long n = n0; n < n1; ++n) {
      const float* xn = x + n * g.in_image();
      float* yn = y + n * g.out_image();
      for (int oh = 0; oh < g.out_h; ++oh)
        for (int ow = 0; ow < g.out_w; ++ow) {
          const Window win = window(g, oh, ow);
          float* out = yn + (static_cast<long>(oh) * g.out_w + ow) * C;
          std::memset(out, 0, sizeof(float) * C);
          for (int ih = win.h0; ih < win.h1; ++ih)
            for (int iw = win.w0; iw < win.w1; ++iw) {
              const float* in = xn + (static_cast<long>(ih) * g.in_w + iw) * C;
              for (int c = 0; c < C; ++c) out[c] += in[c];
            }
          const float scale = 1.0f / static_cast<float>(win.cells());
          for (int c = 0; c < C; ++c) out[c] *= scale;
        }
    }
  });
}

void avg_pool2d_backward(float* dx, const float* dy, const Geometry& g) {
  const int C = g.in_c;
  parallel_chunks(g.batch, pool_work(g), [&](long n0, long n1, int) {
    for (long n = n0; n < n1; ++n) {
      const float* dyn = dy + n * g.out_image();
      float* dxn = dx + n * g.in_image();
      std::memset(dxn, 0, sizeof(float) * g.in_image());
      for (int oh = 0; oh < g.out_h; ++oh)
        for (int ow = 0; ow < g.out_w; ++ow) {
          const Window win = window(g, oh, ow);
          const float scale = 1.0f / static_cast<float>(win.cells());
          const float* d = dyn + (static_cast<long>(oh) * g.out_w + ow) * C;
          for (int ih = win.h0; ih < win.h1; ++ih)
            for (int iw = win.w0; iw < win.w1; ++iw) {
              float* out = dxn + (static_cast<long>(ih) * g.in_w + iw) * C;
              for (int c = 0; c < C; ++c) out[c] += d[c] * scale;
            }
        }
    }
  });
}

}  // namespace convkit
