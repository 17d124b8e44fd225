// Row softmax / log-softmax and cross-entropy fused with its softmax (the masked attention softmax: attention.cc).
// Rows are independent: parallel over rows, every reduction in a fixed order (bit-reproducible).
#include <cmath>
#include <algorithm>
#include <limits>
#include "fastmath.h"
#include "kernels.h"

namespace pk::PK_ISA {

// sum_c exp(x[c] - m), accumulated in 8 float lanes then in double: vectorizes and stays accurate for V ~ 1e5.
static inline double row_sum_exp(const float* x, int64_t C, float m) {
  float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t c = 0;
  for (; c + 8 <= C; c += 8)
    for (int k = 0; k < 8; k++) lanes[k] += fast_exp(x[c + k] - m);
  double s = 0;
  for (int k = 0; k < 8; k++) s += lanes[k];
  for (; c < C; c++) s += fast_exp(x[c] - m);
  return s;
}

void softmax_forward(const float* x, float* y, int64_t R, int64_t C, bool log) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    const float m = row_max(xr, C);
    const double s = row_sum_exp(xr, C, m);
    if (log) {
      const float lse = m + static_cast<float>(std::log(s));
      for (int64_t c = 0; c < C; c++) yr[c] = xr[c] - lse;
    } else {
      const float inv = static_cast<float>(1.0 / s);
      for (int64_t c = 0; c < C; c++) yr[c] = fast_exp(xr[c] - m) * inv;
    }
  }
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t R, int64_t C, bool log) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const float* yr = y + r * C;
    const float* gr = dy + r * C;
    float* dr = dx + r * C;
    double s = 0;
    if (log) {
      for (int64_t c = 0; c < C; c++) s += gr[c];
      const float sf = static_cast<float>(s);
      for (int64_t c = 0; c < C; c++) dr[c] = gr[c] - fast_exp(yr[c]) * sf;
    } else {
      for (int64_t c = 0; c < C; c++) s += gr[c] * yr[c];
      const float sf = static_cast<float>(s);
      for (int64_t c = 0; c < C; c++) dr[c] = yr[c] * (gr[c] - sf);
    }
  }
}

void cross_entropy_forward(const float* logits, const int32_t* targets, float* row_loss, int64_t R, int64_t V,
                           int ignore) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const int t = targets[r];
    if (t == ignore) {
      row_loss[r] = 0.0f;
      continue;
    }
    const float* x = logits + r * V;
    const float m = row_max(x, V);
    const double s = row_sum_exp(x, V, m);
    row_loss[r] = static_cast<float>(m + std::log(s) - x[t]);
  }
}

void cross_entropy_backward(const float* logits, const int32_t* targets, const float* row_scale, float* dlogits,
                            int64_t R, int64_t V, int ignore) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < R; r++) {
    const int t = targets[r];
    float* d = dlogits + r * V;
    const float scale = row_scale[r];
    if (t == ignore || scale == 0.0f) {
      for (int64_t c = 0; c < V; c++) d[c] = 0.0f;
      continue;
    }
    const float* x = logits + r * V;
    const float m = row_max(x, V);
    const float k = static_cast<float>(scale / row_sum_exp(x, V, m));
    for (int64_t c = 0; c < V; c++) d[c] = fast_exp(x[c] - m) * k;
    d[t] -= scale;
  }
}

}  // namespace pk::PK_ISA
