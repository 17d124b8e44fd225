// Internal to the GEMM: the problem as the blocked driver sees it, the block sizes, and one entry point per
// instruction set (gemm_portable.cc, gemm_avx2.cc, gemm_avx512.cc). gemm.cc chooses among them.
#pragma once
#include <cstdint>

namespace pk::gemm_impl {

// C[M x N] = alpha op(A)[M x K] op(B)[K x N] + beta C, row-major; op transposes when ta / tb. M, N > 0 here.
struct Problem {
  bool ta, tb;
  int M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
  int threads;
};

// The block sizes, all in one place (GotoBLAS / BLIS terms). A micro-kernel keeps an MR x NR tile of C in
// registers and runs over KC steps of k; it reads a KC x NR sliver of packed B, which stays in L1 while the
// kernel moves down MC rows of A (so KC * NR * 4 bytes <= ~32 KiB, under the 32-48 KiB L1 of current x86),
// and an MR x KC sliver of packed A, streamed from the MC x KC block that stays in L2 (MC * KC * 4 <= ~384 KiB,
// under 1 MiB). A KC x NC panel of B lives in L3. KC is also the unit of the reduction: every C element sums
// its K products in ceil(K / KC) blocks of k in increasing order, the blocks split K evenly, and none of this
// depends on the thread count, which only decides who computes which MR x NR tile: results are bit-identical
// for any number of threads.
struct Blocking {
  int MR, NR, KC, MC, NC;
};
// AVX-512: 14 x 32 = 28 zmm accumulators + 2 for B + 1 broadcast of the 32 registers. 14 rows rather than
// the power of two keeps two FMA pipes of 4-cycle latency busy with room to spare and halves A traffic per
// FLOP against 6 x 32 (measured in bench/gemm.ts).
inline constexpr Blocking kAvx512{14, 32, 256, 168, 4096};
// AVX2: 6 x 16 = 12 ymm accumulators + 2 for B + 1 broadcast of the 16 registers (the classic Haswell shape).
inline constexpr Blocking kAvx2{6, 16, 256, 144, 4096};
// Portable C++: a 4 x 16 tile of plain loops the compiler vectorizes for what it targets (SSE2, NEON).
inline constexpr Blocking kPortable{4, 16, 256, 128, 4096};

void gemm_portable(const Problem& p);
#if defined(__x86_64__)
void gemm_avx2(const Problem& p);
void gemm_avx512(const Problem& p);
#endif

}  // namespace pk::gemm_impl
