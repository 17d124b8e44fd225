// Elementwise activations, forward and backward side by side. Codes match UNARY_CODES in backend.ts.
#include <cmath>
#include "fastmath.h"
#include "kernels.h"

namespace pk::PK_ISA {

enum Unary { EXP = 0, LOG, SQRT, TANH, SIGMOID, SILU, GELU, GELU_TANH, RELU };

static constexpr float kSqrt2OverPi = 0.7978845608028654f;
static constexpr float kInvSqrt2 = 0.7071067811865476f;
static constexpr float kInvSqrt2Pi = 0.3989422804014327f;
static constexpr int64_t kParallelMin = 1 << 14;

void unary_forward(int code, const float* x, float* y, int64_t n) {
#define PK_LOOP(expr)                                                        \
  _Pragma("omp parallel for simd schedule(static) if (n >= kParallelMin)") \
  for (int64_t i = 0; i < n; i++) { const float v = x[i]; y[i] = (expr); }
  switch (code) {
    case EXP: PK_LOOP(std::exp(v)); break;
    case LOG: PK_LOOP(std::log(v)); break;
    case SQRT: PK_LOOP(std::sqrt(v)); break;
    case TANH: PK_LOOP(std::tanh(v)); break;
    case SIGMOID: PK_LOOP(fast_sigmoid(v)); break;
    case SILU: PK_LOOP(v * fast_sigmoid(v)); break;
    case GELU: PK_LOOP(0.5f * v * (1.0f + fast_erf(v * kInvSqrt2))); break;
    case GELU_TANH: PK_LOOP(0.5f * v * (1.0f + fast_tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)))); break;
    case RELU: PK_LOOP(v > 0.0f ? v : 0.0f); break;
  }
#undef PK_LOOP
}

static inline float gelu_tanh_grad(float v) {
  const float t = fast_tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v));
  const float du = kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * v * v);
  return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du;
}

static inline float silu_grad(float v) {
  const float s = fast_sigmoid(v);
  return s * (1.0f + v * (1.0f - s));
}

void unary_backward(int code, const float* x, const float* y, const float* dy, float* dx, int64_t n) {
#define PK_LOOP(expr)                                                        \
  _Pragma("omp parallel for simd schedule(static) if (n >= kParallelMin)") \
  for (int64_t i = 0; i < n; i++) { const float v = x[i]; const float out = y[i]; (void)out; dx[i] = dy[i] * (expr); }
  switch (code) {
    case EXP: PK_LOOP(out); break;
    case LOG: PK_LOOP(1.0f / v); break;
    case SQRT: PK_LOOP(0.5f / out); break;
    case TANH: PK_LOOP(1.0f - out * out); break;
    case SIGMOID: PK_LOOP(out * (1.0f - out)); break;
    case SILU: PK_LOOP(silu_grad(v)); break;
    case GELU: PK_LOOP(0.5f * (1.0f + fast_erf(v * kInvSqrt2)) + v * kInvSqrt2Pi * fast_exp(-0.5f * v * v)); break;
    case GELU_TANH: PK_LOOP(gelu_tanh_grad(v)); break;
    case RELU: PK_LOOP(v > 0.0f ? 1.0f : 0.0f); break;
  }
#undef PK_LOOP
}

}  // namespace pk::PK_ISA
