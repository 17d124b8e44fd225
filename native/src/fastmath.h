// Branch-free float approximations that GCC vectorizes inside loops (libm's expf does not without
// -ffast-math). exp: Cephes range reduction + degree-6 polynomial, relative error ~2e-7.
// erf: Abramowitz-Stegun 7.1.26, absolute error <= 1.5e-7; both below float32 training noise.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace pk {

// Ternaries and the 1.5 * 2^23 rounding trick instead of std::fmin/fmax/floor: with -fno-trapping-math
// (binding.gyp) GCC if-converts and vectorizes these; the libm calls would need the unsafe fast-math set.
// a * b + c contracts to FMA (GCC's default -ffp-contract=fast), identically on every run of one build.
static inline float fast_min(float a, float b) { return a < b ? a : b; }
static inline float fast_max(float a, float b) { return a > b ? a : b; }

static inline float fast_exp(float x) {
  x = fast_min(fast_max(x, -87.0f), 88.3f);
  const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to the nearest integer
  const float n = (x * 1.44269504088896341f + shifter) - shifter;
  float r = n * -0.693359375f + x;
  r = n * 2.12194440e-4f + r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

static inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

static inline float fast_tanh(float x) { return 1.0f - 2.0f / (fast_exp(2.0f * x) + 1.0f); }

static inline float fast_erf(float x) {
  const float ax = x < 0.0f ? -x : x;
  const float t = 1.0f / (0.3275911f * ax + 1.0f);
  float p = 1.061405429f;
  p = p * t + -1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t + -0.284496736f;
  p = p * t + 0.254829592f;
  const float y = 1.0f - p * t * fast_exp(-ax * ax);
  return x < 0.0f ? -y : y;
}

// Max in 8 independent lanes: a single running max is a reduction GCC vectorizes only under fast-math.
static inline float row_max(const float* x, int64_t C) {
  const float lowest = -std::numeric_limits<float>::infinity();
  float lanes[8] = {lowest, lowest, lowest, lowest, lowest, lowest, lowest, lowest};
  int64_t c = 0;
  for (; c + 8 <= C; c += 8)
    for (int k = 0; k < 8; k++) lanes[k] = x[c + k] > lanes[k] ? x[c + k] : lanes[k];
  float m = lowest;
  for (int k = 0; k < 8; k++) m = lanes[k] > m ? lanes[k] : m;
  for (; c < C; c++) m = x[c] > m ? x[c] : m;
  return m;
}

}  // namespace pk
