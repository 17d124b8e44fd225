// Branch-free float approximations that GCC vectorizes inside loops (libm's expf does not without
// -ffast-math). exp: Cephes range reduction + degree-6 polynomial, relative error ~2e-7.
// erf: Abramowitz-Stegun 7.1.26, absolute error <= 1.5e-7; both below float32 training noise.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace pk {

static inline float fast_exp(float x) {
  x = std::fmin(std::fmax(x, -87.0f), 88.3f);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = std::fma(n, -0.693359375f, x);
  r = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  p = std::fma(p, r * r, r) + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

static inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

static inline float fast_tanh(float x) { return 1.0f - 2.0f / (fast_exp(2.0f * x) + 1.0f); }

static inline float fast_erf(float x) {
  const float ax = std::fabs(x);
  const float t = 1.0f / std::fma(0.3275911f, ax, 1.0f);
  float p = 1.061405429f;
  p = std::fma(p, t, -1.453152027f);
  p = std::fma(p, t, 1.421413741f);
  p = std::fma(p, t, -0.284496736f);
  p = std::fma(p, t, 0.254829592f);
  const float y = 1.0f - p * t * fast_exp(-ax * ax);
  return std::copysign(y, x);
}

}  // namespace pk
