// Scaled dot-product attention over all batch x head slices in one call: the score product, soft-capping, the
// masked softmax and the value product (forward), and their gradients (backward); plus the masked softmax alone.
// Shapes and semantics: src/engine/ops/attention.ts and the ts backend's attentionForward, which these mirror.
//
// Why one call: attention.ts used to issue four to six GEMMs per (batch, head) from JavaScript, thousands per
// training step, each too small (128 x 128 x 32 for the embedded model) to thread. Here the slices are the unit
// of parallel work: each is computed start to finish by one thread with the single-threaded GEMM, so every
// output element's arithmetic is the same for any thread count (bit-identical), and the same as the per-head
// calls made it. The backward's unit is a (batch, KV head) pair, whose query heads run in increasing order: the
// K and V gradients of grouped-query heads accumulate in a fixed order without any reduction across threads.
#include <cmath>
#include <algorithm>
#include <limits>
#include <vector>
#include "fastmath.h"
#include "kernels.h"
#include "transpose.h"

namespace pk::PK_ISA {

namespace {

// Keys query row i may attend: [first, last] (before the key mask).
struct Visible {
  int first, last;
};

inline Visible visible_keys(int i, int Tk, int causal_offset, int window) {
  const int last = causal_offset >= 0 ? std::min(Tk - 1, i + causal_offset) : Tk - 1;
  const int first = causal_offset >= 0 && window > 0 ? std::max(0, i + causal_offset - window + 1) : 0;
  return {first, last};
}

// s[j] = exp(s[j] - m) over [0, n), returning their sum: 8 float lanes, then in double. A single double
// accumulator (one dependent add per key) took as long as the row's GEMMs.
inline double exp_in_place_sum(float* s, int n, float m) {
  float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; k++) {
      const float e = fast_exp(s[j + k] - m);
      s[j + k] = e;
      lanes[k] += e;
    }
  double sum = 0;
  for (int k = 0; k < 8; k++) sum += lanes[k];
  for (; j < n; j++) {
    s[j] = fast_exp(s[j] - m);
    sum += s[j];
  }
  return sum;
}

// One row of scores -> probabilities in place: masked keys get 0, a row with no visible key all zeros.
inline void masked_softmax_row(float* s, int Tk, Visible vis, const float* km) {
  if (!km) {
    // Causal / windowed only: the visible keys are one contiguous run [first, last]; the rest become 0.
    const int n = vis.last - vis.first + 1;
    if (n <= 0) {
      std::fill(s, s + Tk, 0.0f);
      return;
    }
    float* r = s + vis.first;
    const float inv = static_cast<float>(1.0 / exp_in_place_sum(r, n, row_max(r, n)));
    for (int j = 0; j < n; j++) r[j] *= inv;
    std::fill(s, r, 0.0f);
    std::fill(r + n, s + Tk, 0.0f);
    return;
  }
  float m = -std::numeric_limits<float>::infinity();
  for (int j = vis.first; j <= vis.last; j++)
    if (km[j] != 0.0f && s[j] > m) m = s[j];
  if (m == -std::numeric_limits<float>::infinity()) {
    std::fill(s, s + Tk, 0.0f);
    return;
  }
  double sum = 0;
  for (int j = 0; j < Tk; j++) {
    const bool visible = j >= vis.first && j <= vis.last && km[j] != 0.0f;
    const float e = visible ? fast_exp(s[j] - m) : 0.0f;
    s[j] = e;
    sum += e;
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int j = 0; j < Tk; j++) s[j] *= inv;
}

// dx = y * (dy - sum(dy * y)) over one row; masked y = 0 gives dx = 0. The sum in 8 float lanes, then double.
inline void softmax_backward_row(const float* y, const float* dy, float* dx, int C) {
  float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int c = 0;
  for (; c + 8 <= C; c += 8)
    for (int k = 0; k < 8; k++) lanes[k] += dy[c + k] * y[c + k];
  double s = 0;
  for (int k = 0; k < 8; k++) s += lanes[k];
  for (; c < C; c++) s += dy[c] * y[c];
  const float sf = static_cast<float>(s);
  for (c = 0; c < C; c++) dx[c] = y[c] * (dy[c] - sf);
}

// acc + a b as the GEMM's micro-kernel for this build computes it: one fused multiply-add where the row kernels
// are compiled with FMA (the AVX2 and AVX-512 GEMMs, which the dispatcher pairs with them, use FMA), otherwise a
// product then a sum (the portable GEMM's loop, compiled under the same flags).
inline float multiply_add(float a, float b, float acc) {
#if defined(__FMA__)
  return __builtin_fmaf(a, b, acc);
#else
  return acc + a * b;
#endif
}

// The GEMM's reduction block (KC, gemm.h; 256 for every micro-kernel): up to it, one running sum per element.
constexpr int kScoreDirectMaxD = 256;
// Query rows up to which scores skip the GEMM. The GEMM packs K^T (Tk x D) for every (batch, head) slice, which
// at decode time (one query row) cost several times the product itself: 1.2 ms per layer for 32 prompts x 8 heads
// at 150 keys.
constexpr int kScoreDirectMaxRows = 4;

// S[i, j] = scale * sum_d Q[i, d] K[j, d] for few query rows, element for element the arithmetic of the GEMM call it
// replaces (gemm_serial(false, true, Tq, Tk, D, scale, ...) with D <= kScoreDirectMaxD: each sum in increasing d
// from 0, then one multiply by scale), so results do not change: the same bits either way.
inline void scores_few_rows(const float* q, int64_t ldq, const float* k, int64_t ldk, int Tq, int Tk, int D,
                            float scale, float* s) {
  for (int i = 0; i < Tq; i++) {
    const float* qi = q + i * ldq;
    float* si = s + static_cast<int64_t>(i) * Tk;
    int j = 0;
#if defined(__AVX2__) && defined(__FMA__)
    // Eight keys per vector, lane u summing key j + u's products in increasing d (the same fused multiply-adds as
    // the scalar loop below): 8 x 8 blocks of K transposed in registers give each d's eight key entries.
    for (; j + 8 <= Tk; j += 8) {
      const float* kj = k + j * ldk;
      alignas(32) float cols[64];  // cols[dd * 8 + u] = K[j + u, d + dd]
      __m256 acc = _mm256_setzero_ps();
      int d = 0;
      for (; d + 8 <= D; d += 8) {
        transpose8x8(kj + d, ldk, cols, 8);
        for (int dd = 0; dd < 8; dd++)
          acc = _mm256_fmadd_ps(_mm256_set1_ps(qi[d + dd]), _mm256_load_ps(cols + dd * 8), acc);
      }
      for (; d < D; d++) {
        for (int u = 0; u < 8; u++) cols[u] = kj[u * ldk + d];
        acc = _mm256_fmadd_ps(_mm256_set1_ps(qi[d]), _mm256_load_ps(cols), acc);
      }
      _mm256_storeu_ps(si + j, _mm256_mul_ps(acc, _mm256_set1_ps(scale)));
    }
#else
    for (; j + 8 <= Tk; j += 8) {  // eight independent sums in flight
      const float* kj = k + j * ldk;
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int d = 0; d < D; d++)
        for (int u = 0; u < 8; u++) acc[u] = multiply_add(qi[d], kj[u * ldk + d], acc[u]);
      for (int u = 0; u < 8; u++) si[j + u] = acc[u] * scale;
    }
#endif
    for (; j < Tk; j++) {
      const float* kj = k + j * ldk;
      float acc = 0;
      for (int d = 0; d < D; d++) acc = multiply_add(qi[d], kj[d], acc);
      si[j] = acc * scale;
    }
  }
}

}  // namespace

void attention_softmax_forward(float* scores, int B, int H, int Tq, int Tk, int causal_offset, const float* key_mask,
                               int window) {
  const int64_t rows = static_cast<int64_t>(B) * H * Tq;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < rows; row++) {
    const int i = static_cast<int>(row % Tq);
    const int b = static_cast<int>(row / (static_cast<int64_t>(H) * Tq));
    const float* km = key_mask ? key_mask + static_cast<int64_t>(b) * Tk : nullptr;
    masked_softmax_row(scores + row * Tk, Tk, visible_keys(i, Tk, causal_offset, window), km);
  }
}

void attention_forward(const float* q, const float* k, const float* v, float* probs, float* capped, float* out, int B,
                       int H, int Hkv, int Tq, int Tk, int D, float scale, double softcap, int causal_offset,
                       const float* key_mask, int window) {
  const int group = H / Hkv;
  const int64_t ldq = static_cast<int64_t>(H) * D, ldk = static_cast<int64_t>(Hkv) * D;
  const int64_t TT = static_cast<int64_t>(Tq) * Tk;
#pragma omp parallel for schedule(static)
  for (int64_t bh = 0; bh < static_cast<int64_t>(B) * H; bh++) {
    const int b = static_cast<int>(bh / H), h = static_cast<int>(bh % H);
    const int64_t qo = b * Tq * ldq + static_cast<int64_t>(h) * D;
    const int64_t ko = b * Tk * ldk + static_cast<int64_t>(h / group) * D;
    float* p = probs + bh * TT;
    if (Tq <= kScoreDirectMaxRows && D <= kScoreDirectMaxD)
      scores_few_rows(q + qo, ldq, k + ko, ldk, Tq, Tk, D, scale, p);  // S = s Q K^T, decoding
    else
      gemm_serial(false, true, Tq, Tk, D, scale, q + qo, ldq, k + ko, ldk, 0.0f, p, Tk);  // S = s Q K^T
    if (softcap > 0) {
      // In double, as the ts backend (Math.tanh); the backward needs tanh(s / cap).
      float* c = capped + bh * TT;
      for (int64_t e = 0; e < TT; e++) {
        const double t = std::tanh(static_cast<double>(p[e]) / softcap);
        c[e] = static_cast<float>(t);
        p[e] = static_cast<float>(softcap * t);
      }
    }
    const float* km = key_mask ? key_mask + static_cast<int64_t>(b) * Tk : nullptr;
    for (int i = 0; i < Tq; i++)
      masked_softmax_row(p + static_cast<int64_t>(i) * Tk, Tk, visible_keys(i, Tk, causal_offset, window), km);
    gemm_serial(false, false, Tq, D, Tk, 1.0f, p, Tk, v + ko, ldk, 0.0f, out + qo, ldq);  // O = P V
  }
}

void attention_backward(const float* q, const float* k, const float* v, const float* probs, const float* capped,
                        const float* dout, float* dq, float* dk, float* dv, int B, int H, int Hkv, int Tq, int Tk,
                        int D, float scale) {
  const int group = H / Hkv;
  const int64_t ldq = static_cast<int64_t>(H) * D, ldk = static_cast<int64_t>(Hkv) * D;
  const int64_t TT = static_cast<int64_t>(Tq) * Tk;
#pragma omp parallel
  {
    std::vector<float> dP(TT), dS(TT);  // per thread, reused across its slices
#pragma omp for schedule(static)
    for (int64_t bk = 0; bk < static_cast<int64_t>(B) * Hkv; bk++) {
      const int b = static_cast<int>(bk / Hkv), kh = static_cast<int>(bk % Hkv);
      const int64_t ko = b * Tk * ldk + static_cast<int64_t>(kh) * D;
      for (int g = 0; g < group; g++) {
        const int h = kh * group + g;
        const int64_t qo = b * Tq * ldq + static_cast<int64_t>(h) * D;
        const int64_t po = (static_cast<int64_t>(b) * H + h) * TT;
        // The first query head of the group writes dK and dV, the others add to them.
        const float acc = g == 0 ? 0.0f : 1.0f;
        gemm_serial(false, true, Tq, Tk, D, 1.0f, dout + qo, ldq, v + ko, ldk, 0.0f, dP.data(), Tk);  // dP = dO V^T
        gemm_serial(true, false, Tk, D, Tq, 1.0f, probs + po, Tk, dout + qo, ldq, acc, dv + ko, ldk);  // dV += P^T dO
        for (int i = 0; i < Tq; i++)
          softmax_backward_row(probs + po + static_cast<int64_t>(i) * Tk, dP.data() + static_cast<int64_t>(i) * Tk,
                               dS.data() + static_cast<int64_t>(i) * Tk, Tk);
        if (capped) {
          const float* c = capped + po;
          for (int64_t e = 0; e < TT; e++)
            dS[e] = static_cast<float>(dS[e] * (1.0 - static_cast<double>(c[e]) * c[e]));
        }
        gemm_serial(false, false, Tq, D, Tk, scale, dS.data(), Tk, k + ko, ldk, 0.0f, dq + qo, ldq);  // dQ = s dS K
        gemm_serial(true, false, Tk, D, Tq, scale, dS.data(), Tk, q + qo, ldq, acc, dk + ko, ldk);    // dK += s dS^T Q
      }
    }
  }
}

}  // namespace pk::PK_ISA
