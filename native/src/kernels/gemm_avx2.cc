// The AVX2 + FMA micro-kernel: a 6 x 16 tile of C in 12 ymm registers (kAvx2 in gemm.h). Compiled with
// -mavx2 -mfma (binding.gyp); gemm.cc calls it only where CPUID reports both.
#include <immintrin.h>
#include "gemm_driver.h"

namespace pk::gemm_impl {
namespace {

struct Avx2 {
  static constexpr Blocking kBlocking = kAvx2;

  template <int M, bool PACKED_A, bool HALF>
  static void tile(int kc, int n, const float* a, int64_t rsa, int64_t csa, const float* b, int64_t rsb, float* c,
                   int64_t ldc, float alpha, float beta) {
    constexpr int NR = HALF ? 8 : 16;
    // Full tiles load B with plain loads; edge tiles mask lanes at or past column n (vmaskmovps is slower, and
    // B may be the caller's matrix, read in place, so the lanes past n must not be touched).
    if (n == NR)
      body<M, PACKED_A, HALF, true>(kc, n, a, rsa, csa, b, rsb, c, ldc, alpha, beta);
    else
      body<M, PACKED_A, HALF, false>(kc, n, a, rsa, csa, b, rsb, c, ldc, alpha, beta);
  }

  template <int M, bool PACKED_A, bool HALF, bool FULL>
  static void body(int kc, int n, const float* a, int64_t rsa, int64_t csa, const float* b, int64_t rsb, float* c,
                   int64_t ldc, float alpha, float beta) {
    constexpr int NV = HALF ? 1 : 2;  // ymm vectors of 8 floats per row of the tile
    const int64_t rs = PACKED_A ? 1 : rsa, cs = PACKED_A ? kBlocking.MR : csa;
    __m256i mask[2];
    for (int v = 0; v < 2; v++)
      mask[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8 * v), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 acc[M][NV];
#pragma GCC unroll 8
    for (int i = 0; i < M; i++)
#pragma GCC unroll 2
      for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();
    for (int k = 0; k < kc; k++) {
      __m256 bv[NV];
#pragma GCC unroll 2
      for (int v = 0; v < NV; v++) bv[v] = FULL ? _mm256_loadu_ps(b + 8 * v) : _mm256_maskload_ps(b + 8 * v, mask[v]);
#pragma GCC unroll 8
      for (int i = 0; i < M; i++) {
        const __m256 ai = _mm256_broadcast_ss(a + i * rs);
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
      }
      a += cs;
      b += rsb;
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
    for (int i = 0; i < M; i++)
#pragma GCC unroll 2
      for (int v = 0; v < NV; v++) {
        float* ci = c + i * ldc + 8 * v;
        __m256 r = _mm256_mul_ps(acc[i][v], va);
        if (FULL) {
          if (beta != 0.0f) r = _mm256_fmadd_ps(_mm256_loadu_ps(ci), vb, r);
          _mm256_storeu_ps(ci, r);
        } else {
          if (beta != 0.0f) r = _mm256_fmadd_ps(_mm256_maskload_ps(ci, mask[v]), vb, r);
          _mm256_maskstore_ps(ci, mask[v], r);
        }
      }
  }
};

}  // namespace

void gemm_avx2(const Problem& p) { run<Avx2>(p); }

}  // namespace pk::gemm_impl
