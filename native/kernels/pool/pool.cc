#include "kernels/pool/pool.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/common/parallel.h"

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

// Windows that tile the input (stride = kernel, no padding): every input
// cell belongs to at most one window, so the backward writes each dx cell
// once instead of zeroing everything and scattering.
bool tiles(const Geometry& g) {
  return g.stride_h == g.k_h && g.stride_w == g.k_w && g.pad_top == 0 && g.pad_bottom == 0 && g.pad_left == 0 &&
         g.pad_right == 0 && g.k_h * g.k_w <= kMaxTiledPoolWindow;
}

// One image of the tiled max-pool backward.
void max_pool_backward_tiled(float* __restrict dxn, const float* __restrict dyn, const float* __restrict xn,
                             const Geometry& g, bool relu_mask, float* __restrict best, int32_t* __restrict which) {
  const int C = g.in_c, KH = g.k_h, KW = g.k_w, W = g.in_w;
  // Rows and columns that the floor of the output size leaves out get no gradient.
  const int covered_h = g.out_h * KH, covered_w = g.out_w * KW;
  for (int ih = covered_h; ih < g.in_h; ++ih) std::memset(dxn + static_cast<long>(ih) * W * C, 0, sizeof(float) * W * C);
  for (int oh = 0; oh < g.out_h; ++oh) {
    if (covered_w < W) {
      for (int kh = 0; kh < KH; ++kh) {
        std::memset(dxn + (static_cast<long>(oh * KH + kh) * W + covered_w) * C, 0, sizeof(float) * (W - covered_w) * C);
      }
    }
    for (int ow = 0; ow < g.out_w; ++ow) {
      const long origin = (static_cast<long>(oh * KH) * W + ow * KW) * C;
      for (int c = 0; c < C; ++c) {
        best[c] = xn[origin + c];
        which[c] = 0;
      }
      for (int kh = 0, cell = 0; kh < KH; ++kh) {
        const float* in_row = xn + origin + static_cast<long>(kh) * W * C;
        for (int kw = 0; kw < KW; ++kw, ++cell) {
          if (cell == 0) continue;
          const float* in = in_row + static_cast<long>(kw) * C;
          for (int c = 0; c < C; ++c) {
            const float v = in[c];
            const float b = best[c];
            const bool wins = v > b || v != v;  // strict: ties keep the earlier cell; NaN wins, as in PyTorch
            const int32_t better = -static_cast<int32_t>(wins);
            best[c] = wins ? v : b;
            which[c] = (which[c] & ~better) | (cell & better);
          }
        }
      }
      const float* d = dyn + (static_cast<long>(oh) * g.out_w + ow) * C;
      for (int kh = 0, cell = 0; kh < KH; ++kh) {
        float* out_row = dxn + origin + static_cast<long>(kh) * W * C;
        for (int kw = 0; kw < KW; ++kw, ++cell) {
          float* out = out_row + static_cast<long>(kw) * C;
          for (int c = 0; c < C; ++c) {
            const bool pass = (which[c] == cell) & (!relu_mask | (best[c] > 0.0f));  // bitwise: no branch
            const float dv = d[c];
            out[c] = pass ? dv : 0.0f;
          }
        }
      }
    }
  }
}

}  // namespace

bool pool_windows_tile(const Geometry& g) { return tiles(g); }

void max_pool2d_forward_cells_image(float* yn, uint8_t* cells, const float* xn, const Geometry& g) {
  const int C = g.in_c, KH = g.k_h, KW = g.k_w, W = g.in_w;
  if (C % 16 == 0) {
    current_pool_kernels().forward_cells_image(yn, cells, xn, g);
    return;
  }
  for (int oh = 0; oh < g.out_h; ++oh)
    for (int ow = 0; ow < g.out_w; ++ow) {
      const long origin = (static_cast<long>(oh * KH) * W + ow * KW) * C;
      const long out = (static_cast<long>(oh) * g.out_w + ow) * C;
      for (int c = 0; c < C; ++c) {
        float best = xn[origin + c];
        int which = 0;
        for (int kh = 0, cell = 0; kh < KH; ++kh)
          for (int kw = 0; kw < KW; ++kw, ++cell) {
            const float v = xn[origin + (static_cast<long>(kh) * W + kw) * C + c];
            if (v > best || v != v) {  // strict: ties keep the earlier cell; NaN wins, as in PyTorch
              best = v;
              which = cell;
            }
          }
        yn[out + c] = best;
        cells[out + c] = static_cast<uint8_t>(which);
      }
    }
}

void max_pool2d_backward_cells_image(float* dxn, const float* dyn, const float* yn, const uint8_t* cells, const Geometry& g,
                                     bool relu_mask, float* channel_sums) {
  const int C = g.in_c, KH = g.k_h, KW = g.k_w, W = g.in_w;
  if (C % 16 == 0) {
    current_pool_kernels().backward_cells_image(dxn, dyn, yn, cells, g, relu_mask, channel_sums);
    return;
  }
  // Every cell of dx is written: zero, then each window's winner.
  std::memset(dxn, 0, sizeof(float) * g.in_image());
  for (int oh = 0; oh < g.out_h; ++oh)
    for (int ow = 0; ow < g.out_w; ++ow) {
      const long origin = (static_cast<long>(oh * KH) * W + ow * KW) * C;
      const long out = (static_cast<long>(oh) * g.out_w + ow) * C;
      for (int c = 0; c < C; ++c) {
        if (relu_mask && !(yn[out + c] > 0.0f)) continue;
        const int cell = cells[out + c];
        if (cell >= KH * KW) continue;  // not a cell of this window (a forged buffer): never write outside it
        dxn[origin + (static_cast<long>(cell / KW) * W + cell % KW) * C + c] = dyn[out + c];
        if (channel_sums) channel_sums[c] += dyn[out + c];
      }
    }
}

void max_pool2d_backward_tiled_image(float* dx_image, const float* dy_image, const float* x_image, const Geometry& g,
                                     bool relu_mask, float* best, int32_t* which) {
  if (g.in_c % 16 == 0) current_pool_kernels().backward_image(dx_image, dy_image, x_image, g, relu_mask);
  else max_pool_backward_tiled(dx_image, dy_image, x_image, g, relu_mask, best, which);
}

void max_pool2d_forward_image(float* yn, const float* xn, const Geometry& g) {
  const int C = g.in_c;
  if (tiles(g) && C % 16 == 0) {
    current_pool_kernels().forward_image(yn, xn, g);
    return;
  }
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
            for (int c = 0; c < C; ++c) out[c] = (in[c] > out[c] || in[c] != in[c]) ? in[c] : out[c];  // NaN wins, as in PyTorch
          }
        }
    }
}

void max_pool2d_forward(float* y, const float* x, const Geometry& g) {
  parallel_chunks(g.batch, pool_work(g), [&](long n0, long n1, int) {
    for (long n = n0; n < n1; ++n) max_pool2d_forward_image(y + n * g.out_image(), x + n * g.in_image(), g);
  });
}

void max_pool2d_backward(float* dx, const float* dy, const float* x, const Geometry& g, bool relu_mask) {
  const int C = g.in_c;
  parallel_chunks(g.batch, pool_work(g), [&](long n0, long n1, int) {
    // Per channel: the best value so far and its offset in the image (an
    // image has < 2^31 elements, checked by the binding).
    thread_local std::vector<float> best;
    thread_local std::vector<int32_t> where;
    if (best.size() < static_cast<std::size_t>(C)) {
      best.resize(C);
      where.resize(C);
    }
    const int C = g.in_c;  // a local, so stores through int32_t* cannot alias the loop bound
    float* __restrict best_c = best.data();
    int32_t* __restrict where_c = where.data();
    if (tiles(g)) {
      for (long n = n0; n < n1; ++n) {
        max_pool2d_backward_tiled_image(dx + n * g.in_image(), dy + n * g.out_image(), x + n * g.in_image(), g, relu_mask, best_c, where_c);
      }
      return;
    }
    for (long n = n0; n < n1; ++n) {
      const float* xn = x + n * g.in_image();
      const float* dyn = dy + n * g.out_image();
      float* dxn = dx + n * g.in_image();
      std::memset(dxn, 0, sizeof(float) * g.in_image());
      for (int oh = 0; oh < g.out_h; ++oh)
        for (int ow = 0; ow < g.out_w; ++ow) {
          const Window win = window(g, oh, ow);
          const int32_t first = (win.h0 * g.in_w + win.w0) * C;
          for (int c = 0; c < C; ++c) {
            best_c[c] = xn[first + c];
            where_c[c] = first + c;
          }
          for (int ih = win.h0; ih < win.h1; ++ih)
            for (int iw = win.w0; iw < win.w1; ++iw) {
              const int32_t offset = (ih * g.in_w + iw) * C;
              if (offset == first) continue;
              const float* __restrict in = xn + offset;
              // Branch-free so it vectorises: random data would mispredict a branch half the time.
              for (int c = 0; c < C; ++c) {
                const float v = in[c];
                const float b = best_c[c];
                const bool wins = v > b || v != v;  // strict: ties keep the earlier cell; NaN wins
                const int32_t better = -static_cast<int32_t>(wins);
                best_c[c] = wins ? v : b;
                where_c[c] = (where_c[c] & ~better) | ((offset + c) & better);
              }
            }
          const float* d = dyn + (static_cast<long>(oh) * g.out_w + ow) * C;
          if (relu_mask) {
            for (int c = 0; c < C; ++c) dxn[where_c[c]] += best_c[c] > 0.0f ? d[c] : 0.0f;
          } else {
            for (int c = 0; c < C; ++c) dxn[where_c[c]] += d[c];
          }
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
