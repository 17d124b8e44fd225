// The portable micro-kernel: plain loops over a 4 x 16 tile (kPortable in gemm.h) that the compiler vectorizes
// for the architecture's baseline (SSE2 on x86-64, NEON on arm64). Used where neither AVX2 + FMA nor AVX-512
// is available, on other architectures, and by the tests as a third path checked against the reference.
#include "gemm_driver.h"

namespace pk::gemm_impl {
namespace {

struct Portable {
  static constexpr Blocking kBlocking = kPortable;

  template <int M, bool PACKED_A, bool HALF>
  static void tile(int kc, int n, const float* a, int64_t rsa, int64_t csa, const float* b, int64_t rsb, float* c,
                   int64_t ldc, float alpha, float beta) {
    constexpr int NR = HALF ? kBlocking.NR / 2 : kBlocking.NR;
    if (n == NR)
      body<M, PACKED_A, NR>(NR, kc, a, rsa, csa, b, rsb, c, ldc, alpha, beta);
    else
      body<M, PACKED_A, NR>(n, kc, a, rsa, csa, b, rsb, c, ldc, alpha, beta);
  }

  // The same loops for a full tile (n == W, a compile-time trip count) and an edge one; each C element is one
  // running sum over k either way.
  template <int M, bool PACKED_A, int W>
  static inline __attribute__((always_inline)) void body(int n, int kc, const float* a, int64_t rsa, int64_t csa,
                                                         const float* b, int64_t rsb, float* c, int64_t ldc,
                                                         float alpha, float beta) {
    const int64_t rs = PACKED_A ? 1 : rsa, cs = PACKED_A ? kBlocking.MR : csa;
    float acc[M][W] = {};
    for (int k = 0; k < kc; k++) {
      for (int i = 0; i < M; i++) {
        const float ai = a[i * rs];
        for (int j = 0; j < n; j++) acc[i][j] += ai * b[j];
      }
      a += cs;
      b += rsb;
    }
    for (int i = 0; i < M; i++) {
      float* ci = c + i * ldc;
      if (beta == 0.0f)
        for (int j = 0; j < n; j++) ci[j] = alpha * acc[i][j];
      else
        for (int j = 0; j < n; j++) ci[j] = alpha * acc[i][j] + beta * ci[j];
    }
  }
};

}  // namespace

void gemm_portable(const Problem& p) { run<Portable>(p); }

}  // namespace pk::gemm_impl
