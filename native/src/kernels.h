// Flat CPU kernels behind the native backend. Every function mirrors one method of the TypeScript
// Backend interface (src/engine/backends/backend.ts), which defines its meaning; see that file for shapes.
// Legend: R rows, C columns, V vocabulary, B batch, H heads, T time, D head size.
#pragma once
#include <cstdint>

namespace pk {

void set_threads(int n);
int get_threads();

// GEMM (kernels/gemm.cc): row-major, the semantics of cblas_sgemm(CblasRowMajor, ...); beta == 0 overwrites C
// without reading it. Our packed kernels by default, OpenBLAS when compiled in and chosen.
void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc);
// The same product on the calling thread only, always with our kernels (never OpenBLAS, whose own threads and
// kernel choice would not be ours to fix): for kernels that call it from inside their parallel regions
// (attention.cc), where every element's arithmetic then matches gemm's for the same implementation.
void gemm_serial(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int64_t lda, const float* B,
                 int64_t ldb, float beta, float* C, int64_t ldc);
// The GEMM in use, e.g. "pharmacist-avx512" or "openblas-Zen".
const char* blas_core();
// The GEMM implementations this build and CPU can run, comma-separated: "portable,avx2,avx512,openblas".
const char* gemm_kernels();
// Selects one by name ("auto" = the fastest of ours for this CPU); false when unknown or unavailable here.
bool set_gemm_kernel(const char* name);

// The element-wise, row and optimizer kernels, as one list (the X-macro pattern): X(return type, name,
// (parameters), (arguments)). Their sources (activation.cc, softmax.cc, norm.cc, rope.cc, optim.cc) are compiled
// once per instruction set into the namespace PK_ISA names (binding.gyp): pk::base for any CPU of the
// architecture, and on x86-64 also pk::x86_64_v3 (AVX2 + FMA), which the loops were tuned with. pk::<name> itself
// is the dispatcher (dispatch.cc) that picks one version by CPUID once.
#define PK_ROW_KERNELS(X)                                                                                             \
  X(void, unary_forward, (int code, const float* x, float* y, int64_t n), (code, x, y, n))                            \
  X(void, unary_backward, (int code, const float* x, const float* y, const float* dy, float* dx, int64_t n),          \
    (code, x, y, dy, dx, n))                                                                                          \
  X(void, gated_forward, (int code, const float* gate, const float* up, float* out, int64_t n),                      \
    (code, gate, up, out, n))                                                                                         \
  X(void, gated_backward,                                                                                             \
    (int code, const float* gate, const float* up, const float* dout, float* dgate, float* dup, int64_t n),           \
    (code, gate, up, dout, dgate, dup, n))                                                                            \
  X(void, softmax_forward, (const float* x, float* y, int64_t R, int64_t C, bool log), (x, y, R, C, log))             \
  X(void, softmax_backward, (const float* y, const float* dy, float* dx, int64_t R, int64_t C, bool log),             \
    (y, dy, dx, R, C, log))                                                                                           \
  X(void, attention_softmax_forward,                                                                                  \
    (float* scores, int B, int H, int Tq, int Tk, int causal_offset, const float* key_mask, int window),              \
    (scores, B, H, Tq, Tk, causal_offset, key_mask, window))                                                          \
  X(void, attention_forward,                                                                                          \
    (const float* q, const float* k, const float* v, float* probs, float* capped, float* out, int B, int H, int Hkv,  \
     int Tq, int Tk, int D, float scale, double softcap, int causal_offset, const float* key_mask, int window),       \
    (q, k, v, probs, capped, out, B, H, Hkv, Tq, Tk, D, scale, softcap, causal_offset, key_mask, window))             \
  X(void, attention_backward,                                                                                         \
    (const float* q, const float* k, const float* v, const float* probs, const float* capped, const float* dout,      \
     float* dq, float* dk, float* dv, int B, int H, int Hkv, int Tq, int Tk, int D, float scale),                     \
    (q, k, v, probs, capped, dout, dq, dk, dv, B, H, Hkv, Tq, Tk, D, scale))                                          \
  X(void, cross_entropy_forward,                                                                                      \
    (const float* logits, const int32_t* targets, float* row_loss, int64_t R, int64_t V, int ignore),                 \
    (logits, targets, row_loss, R, V, ignore))                                                                        \
  X(void, cross_entropy_backward,                                                                                     \
    (const float* logits, const int32_t* targets, const float* row_scale, float* dlogits, int64_t R, int64_t V,       \
     int ignore),                                                                                                     \
    (logits, targets, row_scale, dlogits, R, V, ignore))                                                              \
  X(void, layernorm_forward,                                                                                          \
    (const float* x, const float* w, const float* b, float* y, float* mean, float* rstd, int64_t R, int64_t C,        \
     float eps),                                                                                                      \
    (x, w, b, y, mean, rstd, R, C, eps))                                                                              \
  X(void, layernorm_backward,                                                                                         \
    (const float* x, const float* w, const float* mean, const float* rstd, const float* dy, float* dx, float* dw,     \
     float* db, int64_t R, int64_t C),                                                                                \
    (x, w, mean, rstd, dy, dx, dw, db, R, C))                                                                         \
  X(void, rmsnorm_forward,                                                                                            \
    (const float* x, const float* w, float* y, float* rstd, int64_t R, int64_t C, float eps, float offset),           \
    (x, w, y, rstd, R, C, eps, offset))                                                                               \
  X(void, rmsnorm_backward,                                                                                           \
    (const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, int64_t R, int64_t C,  \
     float offset),                                                                                                   \
    (x, w, rstd, dy, dx, dw, R, C, offset))                                                                           \
  X(void, rope,                                                                                                       \
    (const float* x, float* y, const float* cos, const float* sin, const int32_t* positions, int64_t BT, int H,       \
     int D, int rotary_dim, bool interleaved, bool inverse),                                                          \
    (x, y, cos, sin, positions, BT, H, D, rotary_dim, interleaved, inverse))                                          \
  X(void, accumulate, (float* target, const float* source, int64_t n), (target, source, n))                           \
  X(void, sum_rows, (const float* x, float* out, int64_t R, int64_t C), (x, out, R, C))                               \
  X(void, adamw,                                                                                                      \
    (float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps, float wd,      \
     float bc1, float bc2),                                                                                           \
    (p, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2))                                                                   \
  X(double, sum_squares, (const float* x, int64_t n), (x, n))                                                         \
  X(void, dropout_multiply, (const float* x, float* out, int64_t n, double p, double keep, uint32_t seed),            \
    (x, out, n, p, keep, seed))

#define PK_DECLARE_KERNEL(ret, name, params, args) ret name params;
PK_ROW_KERNELS(PK_DECLARE_KERNEL)
namespace base {
PK_ROW_KERNELS(PK_DECLARE_KERNEL)
}
namespace x86_64_v3 {
PK_ROW_KERNELS(PK_DECLARE_KERNEL)
}
#undef PK_DECLARE_KERNEL

}  // namespace pk
