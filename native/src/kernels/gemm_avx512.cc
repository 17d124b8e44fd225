// The AVX-512 micro-kernel: a 14 x 32 tile of C in 28 zmm registers (kAvx512 in gemm.h). Compiled with
// -mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx2 -mfma (binding.gyp); gemm.cc calls it only where CPUID
// reports AVX-512F.
#include <immintrin.h>
#include "gemm_driver.h"

namespace pk::gemm_impl {
namespace {

struct Avx512 {
  static constexpr Blocking kBlocking = kAvx512;

  template <int M, bool PACKED_A, bool HALF>
  static void tile(int kc, int n, const float* a, int64_t rsa, int64_t csa, const float* b, int64_t rsb, float* c,
                   int64_t ldc, float alpha, float beta) {
    constexpr int NV = HALF ? 1 : 2;  // zmm vectors of 16 floats per row of the tile
    const int64_t rs = PACKED_A ? 1 : rsa, cs = PACKED_A ? kBlocking.MR : csa;
    // Lanes at or past column n are masked off: B may be the caller's matrix, read in place.
    __mmask16 mask[2];
    for (int v = 0; v < 2; v++) {
      const int w = std::min(std::max(n - 16 * v, 0), 16);
      mask[v] = static_cast<__mmask16>((1u << w) - 1);
    }
    __m512 acc[M][NV];
#pragma GCC unroll 16
    for (int i = 0; i < M; i++)
#pragma GCC unroll 2
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++) {
      __m512 bv[NV];
#pragma GCC unroll 2
      for (int v = 0; v < NV; v++) bv[v] = _mm512_maskz_loadu_ps(mask[v], b + 16 * v);
#pragma GCC unroll 16
      for (int i = 0; i < M; i++) {
        const __m512 ai = _mm512_set1_ps(a[i * rs]);
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
      }
      a += cs;
      b += rsb;
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
    for (int i = 0; i < M; i++)
#pragma GCC unroll 2
      for (int v = 0; v < NV; v++) {
        float* ci = c + i * ldc + 16 * v;
        __m512 r = _mm512_mul_ps(acc[i][v], va);
        if (beta != 0.0f) r = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask[v], ci), vb, r);
        _mm512_mask_storeu_ps(ci, mask[v], r);
      }
  }
};

}  // namespace

void gemm_avx512(const Problem& p) { run<Avx512>(p); }

}  // namespace pk::gemm_impl
