// Elementwise activations, forward and backward side by side, and the gated form y = act(gate) * up of the
// Llama-family MLP (SwiGLU, GeGLU). Codes match UNARY_CODES in backend.ts. Each activation's value and
// derivative are written once (act / act_grad below); every loop is instantiated per code, so it vectorizes.
#include <cmath>
#include "fastmath.h"
#include "kernels.h"

namespace pk::PK_ISA {

enum Unary { EXP = 0, LOG, SQRT, TANH, SIGMOID, SILU, GELU, GELU_TANH, RELU };

static constexpr float kSqrt2OverPi = 0.7978845608028654f;
static constexpr float kInvSqrt2 = 0.7071067811865476f;
static constexpr float kInvSqrt2Pi = 0.3989422804014327f;
static constexpr int64_t kParallelMin = 1 << 14;

// f(v).
template <int C>
static inline float act(float v) {
  if constexpr (C == EXP) return std::exp(v);
  if constexpr (C == LOG) return std::log(v);
  if constexpr (C == SQRT) return std::sqrt(v);
  if constexpr (C == TANH) return std::tanh(v);
  if constexpr (C == SIGMOID) return fast_sigmoid(v);
  if constexpr (C == SILU) return v * fast_sigmoid(v);
  if constexpr (C == GELU) return 0.5f * v * (1.0f + fast_erf(v * kInvSqrt2));
  if constexpr (C == GELU_TANH) return 0.5f * v * (1.0f + fast_tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
  if constexpr (C == RELU) return v > 0.0f ? v : 0.0f;
}

// f'(v), given out = f(v) where that is cheaper.
template <int C>
static inline float act_grad(float v, float out) {
  if constexpr (C == EXP) return out;
  if constexpr (C == LOG) return 1.0f / v;
  if constexpr (C == SQRT) return 0.5f / out;
  if constexpr (C == TANH) return 1.0f - out * out;
  if constexpr (C == SIGMOID) return out * (1.0f - out);
  if constexpr (C == SILU) {
    const float s = fast_sigmoid(v);
    return s * (1.0f + v * (1.0f - s));
  }
  if constexpr (C == GELU) return 0.5f * (1.0f + fast_erf(v * kInvSqrt2)) + v * kInvSqrt2Pi * fast_exp(-0.5f * v * v);
  if constexpr (C == GELU_TANH) {
    const float t = fast_tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v));
    const float du = kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * v * v);
    return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du;
  }
  if constexpr (C == RELU) return v > 0.0f ? 1.0f : 0.0f;
}

// The loops, one instantiation per activation (plain template functions: pointers captured by a lambda were
// reloaded through the closure every iteration, and GCC did not vectorize).
template <int C>
static void unary_forward_loop(const float* x, float* y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = act<C>(x[i]);
}

template <int C>
static void unary_backward_loop(const float* x, const float* y, const float* dy, float* dx, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * act_grad<C>(x[i], y[i]);
}

// out = f(gate) * up: the product rounds f(gate) to float first, as unary_forward followed by a multiply would.
template <int C>
static void gated_forward_loop(const float* gate, const float* up, float* out, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float a = act<C>(gate[i]);
    out[i] = a * up[i];
  }
}

// dup = dout * f(gate); dgate = (dout * up) * f'(gate): the same roundings as the unfused multiply and activation.
template <int C>
static void gated_backward_loop(const float* gate, const float* up, const float* dout, float* dgate, float* dup,
                                int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float v = gate[i], a = act<C>(v);
    const float da = dout[i] * up[i];
    dup[i] = dout[i] * a;
    dgate[i] = da * act_grad<C>(v, a);
  }
}

#define PK_FOR_CODE(loop, ...)                             \
  switch (code) {                                          \
    case EXP: return loop<EXP>(__VA_ARGS__);               \
    case LOG: return loop<LOG>(__VA_ARGS__);               \
    case SQRT: return loop<SQRT>(__VA_ARGS__);             \
    case TANH: return loop<TANH>(__VA_ARGS__);             \
    case SIGMOID: return loop<SIGMOID>(__VA_ARGS__);       \
    case SILU: return loop<SILU>(__VA_ARGS__);             \
    case GELU: return loop<GELU>(__VA_ARGS__);             \
    case GELU_TANH: return loop<GELU_TANH>(__VA_ARGS__);   \
    case RELU: return loop<RELU>(__VA_ARGS__);             \
  }

void unary_forward(int code, const float* x, float* y, int64_t n) { PK_FOR_CODE(unary_forward_loop, x, y, n) }

void unary_backward(int code, const float* x, const float* y, const float* dy, float* dx, int64_t n) {
  PK_FOR_CODE(unary_backward_loop, x, y, dy, dx, n)
}

void gated_forward(int code, const float* gate, const float* up, float* out, int64_t n) {
  PK_FOR_CODE(gated_forward_loop, gate, up, out, n)
}

void gated_backward(int code, const float* gate, const float* up, const float* dout, float* dgate, float* dup,
                    int64_t n) {
  PK_FOR_CODE(gated_backward_loop, gate, up, dout, dgate, dup, n)
}

#undef PK_FOR_CODE

}  // namespace pk::PK_ISA
