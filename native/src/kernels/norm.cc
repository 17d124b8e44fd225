// LayerNorm and RMSNorm over the last dimension, forward saving (mean, rstd) / rstd for backward.
// Weight/bias gradients: each thread sums a fixed block of rows into its own buffer, then the buffers
// are added in thread order, so results are bit-identical run to run for a given thread count.
#include <cmath>
#include <omp.h>
#include <vector>
#include "kernels.h"

namespace pk::PK_ISA {

void layernorm_forward(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd, int64_t R,
                       int64_t C, float eps) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    double sum = 0;
    for (int64_t c = 0; c < C; c++) sum += xr[c];
    const float m = static_cast<float>(sum / C);
    double var = 0;
    for (int64_t c = 0; c < C; c++) {
      const float d = xr[c] - m;
      var += d * d;
    }
    const float s = static_cast<float>(1.0 / std::sqrt(var / C + eps));
    mean[r] = m;
    rstd[r] = s;
    for (int64_t c = 0; c < C; c++) yr[c] = (xr[c] - m) * s * w[c] + (b ? b[c] : 0.0f);
  }
}

// Runs body(thread, rowBegin, rowEnd, dwPartial, dbPartial) on fixed row blocks, then reduces partials in order.
template <typename Body>
static void rows_with_param_grads(int64_t R, int64_t C, float* dw, float* db, Body body) {
  const int nt = omp_get_max_threads();
  std::vector<float> partial(static_cast<size_t>(nt) * 2 * C, 0.0f);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const int64_t begin = R * t / nt, end = R * (t + 1) / nt;
    body(begin, end, partial.data() + static_cast<size_t>(t) * 2 * C, partial.data() + static_cast<size_t>(t) * 2 * C + C);
  }
  for (int t = 0; t < nt; t++) {
    const float* pw = partial.data() + static_cast<size_t>(t) * 2 * C;
    if (dw)
      for (int64_t c = 0; c < C; c++) dw[c] += pw[c];
    if (db)
      for (int64_t c = 0; c < C; c++) db[c] += pw[C + c];
  }
}

void layernorm_backward(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                        float* dx, float* dw, float* db, int64_t R, int64_t C) {
  rows_with_param_grads(R, C, dw, db, [&](int64_t begin, int64_t end, float* pw, float* pb) {
    for (int64_t r = begin; r < end; r++) {
      const float* xr = x + r * C;
      const float* gr = dy + r * C;
      float* dr = dx + r * C;
      const float m = mean[r], s = rstd[r];
      float sum_g = 0, sum_gx = 0;
      for (int64_t c = 0; c < C; c++) {
        const float xhat = (xr[c] - m) * s;
        const float g = gr[c] * w[c];
        sum_g += g;
        sum_gx += g * xhat;
        pw[c] += gr[c] * xhat;
        pb[c] += gr[c];
      }
      sum_g /= C;
      sum_gx /= C;
      for (int64_t c = 0; c < C; c++) {
        const float xhat = (xr[c] - m) * s;
        dr[c] = s * (gr[c] * w[c] - sum_g - xhat * sum_gx);
      }
    }
  });
}

void rmsnorm_forward(const float* x, const float* w, float* y, float* rstd, int64_t R, int64_t C, float eps,
                     float offset) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    double ss = 0;
    for (int64_t c = 0; c < C; c++) ss += xr[c] * xr[c];
    const float s = static_cast<float>(1.0 / std::sqrt(ss / C + eps));
    rstd[r] = s;
    for (int64_t c = 0; c < C; c++) yr[c] = xr[c] * s * (offset + w[c]);
  }
}

void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw,
                      int64_t R, int64_t C, float offset) {
  rows_with_param_grads(R, C, dw, nullptr, [&](int64_t begin, int64_t end, float* pw, float*) {
    for (int64_t r = begin; r < end; r++) {
      const float* xr = x + r * C;
      const float* gr = dy + r * C;
      float* dr = dx + r * C;
      const float s = rstd[r];
      float dot = 0;
      for (int64_t c = 0; c < C; c++) {
        dot += gr[c] * (offset + w[c]) * xr[c];
        pw[c] += gr[c] * xr[c] * s;
      }
      const float k = dot * s * s * s / C;
      for (int64_t c = 0; c < C; c++) dr[c] = gr[c] * (offset + w[c]) * s - xr[c] * k;
    }
  });
}

}  // namespace pk::PK_ISA
