// The blocked GEMM driver (GotoBLAS / BLIS loop nest), shared by every instruction set: gemm_<isa>.cc includes
// it after defining its micro-kernel, so the packing loops are compiled with that file's flags too. Everything
// here has internal linkage (an anonymous namespace): each file gets its own copy and no AVX-512 instantiation
// can be picked by the linker for another path.
//
// A micro-kernel class provides kBlocking (gemm.h) and
//   template <int M, bool PACKED_A, bool HALF> static void tile(kc, n, a, rsa, csa, b, rsb, c, ldc, alpha, beta)
// computing, for the M (1..MR) rows and n (1..NR, or 1..NR/2 when HALF) columns of one tile,
//   c[i*ldc + j] = alpha * sum_{k < kc} a[i*rsa + k*csa] * b[k*rsb + j] + beta * c[i*ldc + j]
// with beta == 0 meaning c is not read (so NaN or garbage in C cannot leak), each sum taken in increasing k.
// PACKED_A means rsa == 1 and csa == MR (the packed sliver layout, known at compile time). It must not read
// b beyond column n (B may be the caller's matrix, read in place) nor a beyond row M.
#pragma once
#include <omp.h>
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <utility>
#include "gemm.h"
#include "transpose.h"

namespace pk::gemm_impl {
namespace {

using TileFn = void (*)(int kc, int n, const float* a, int64_t rsa, int64_t csa, const float* b, int64_t rsb,
                        float* c, int64_t ldc, float alpha, float beta);

inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

// table[m] is the tile kernel for m rows (entry 0 unused).
template <class Kern, bool PACKED_A, bool HALF, int... m>
constexpr std::array<TileFn, sizeof...(m) + 1> tile_table(std::integer_sequence<int, m...>) {
  return {nullptr, &Kern::template tile<m + 1, PACKED_A, HALF>...};
}

// A per-thread scratch buffer for the packed panels, kept between calls (the driver runs once per product,
// thousands of times per training step), 64-byte aligned for the vector loads.
float* scratch(size_t floats) {
  struct Buffer {
    float* data = nullptr;
    size_t size = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buffer;
  if (buffer.size < floats) {
    std::free(buffer.data);
    buffer.data = static_cast<float*>(std::aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64));
    buffer.size = floats;
  }
  return buffer.data;
}

// dst[k * nr + j] = op(B)(k0 + k, j0 + j) for k < kc, j < nw, and 0 for nw <= j < nr (the kernel may load the
// padding; it contributes zeros to columns that are never stored).
void pack_b(const Problem& p, int k0, int kc, int j0, int nw, int nr, float* dst) {
  if (!p.tb) {
    for (int k = 0; k < kc; k++) {
      const float* src = p.B + (k0 + k) * p.ldb + j0;
      float* d = dst + static_cast<int64_t>(k) * nr;
      for (int j = 0; j < nw; j++) d[j] = src[j];
      for (int j = nw; j < nr; j++) d[j] = 0.0f;
    }
    return;
  }
  // op(B)(k, j) = B[j * ldb + k]: a transpose. Done element by element (one row of B along k, written down the
  // sliver with a stride of nr) it cost as much as the products themselves when B is a weight and op(A) a few
  // rows (a decoding step: 32 x 704 x 256 ran at half the speed of the same product with B stored [K, N]).
  // So it goes in 8 x 8 blocks, transposed in registers where AVX is compiled in; either way only copies.
  int j = 0;
#if defined(__AVX__)
  for (; j + 8 <= nw; j += 8) {
    const float* src = p.B + (j0 + j) * p.ldb + k0;
    int k = 0;
    for (; k + 8 <= kc; k += 8) transpose8x8(src + k, p.ldb, dst + static_cast<int64_t>(k) * nr + j, nr);
    for (; k < kc; k++)
      for (int u = 0; u < 8; u++) dst[static_cast<int64_t>(k) * nr + j + u] = src[u * p.ldb + k];
  }
#endif
  // Blocks of 16 k: the 16 cache lines of the sliver that a block writes stay in L1 across its columns.
  for (int kb = 0; kb < kc; kb += 16) {
    const int ke = std::min(kc, kb + 16);
    for (int jj = j; jj < nw; jj++) {
      const float* src = p.B + (j0 + jj) * p.ldb + k0;
      for (int k = kb; k < ke; k++) dst[static_cast<int64_t>(k) * nr + jj] = src[k];
    }
  }
  for (int k = 0; k < kc; k++)
    for (int jj = nw; jj < nr; jj++) dst[static_cast<int64_t>(k) * nr + jj] = 0.0f;
}

// dst[k * MR + i] = op(A)(i0 + i, k0 + k) for i < mh (rows mh..MR-1 of an edge sliver are left unset: the
// kernel for mh rows never reads them).
template <int MR>
void pack_a(const Problem& p, int i0, int mh, int k0, int kc, float* dst) {
  if (p.ta) {  // op(A)(i, k) = A[k * lda + i]: rows of the sliver are contiguous in A
    for (int k = 0; k < kc; k++) {
      const float* src = p.A + (k0 + k) * p.lda + i0;
      for (int i = 0; i < mh; i++) dst[k * MR + i] = src[i];
    }
    return;
  }
  for (int i = 0; i < mh; i++) {
    const float* src = p.A + (i0 + i) * p.lda + k0;
    for (int k = 0; k < kc; k++) dst[k * MR + i] = src[k];
  }
}

template <class Kern>
void run(const Problem& p) {
  constexpr Blocking bl = Kern::kBlocking;
  constexpr int MR = bl.MR;
  static constexpr auto kTiles = tile_table<Kern, true, false>(std::make_integer_sequence<int, MR>());
  static constexpr auto kTilesInPlace = tile_table<Kern, false, false>(std::make_integer_sequence<int, MR>());
  static constexpr auto kHalfTiles = tile_table<Kern, true, true>(std::make_integer_sequence<int, MR>());
  static constexpr auto kHalfTilesInPlace = tile_table<Kern, false, true>(std::make_integer_sequence<int, MR>());

  const int M = p.M, N = p.N, K = p.K;
  // Narrow products (LoRA's rank-8 side) use half-width tiles rather than computing masked-off lanes.
  const bool half = N <= bl.NR / 2;
  const int nr = half ? bl.NR / 2 : bl.NR;
  // Packing pays when a sliver is reused: A's across the slivers of B (more than one), B's across the row tiles
  // of A (more than one; a transposed B is always packed, the kernel loads rows of B). Otherwise the kernel
  // reads the operand in place: tall-skinny products then cost no copy of their large operand. With K <= 64 an
  // MR x K tile of A is a few cache lines that stay in L1 across the slivers anyway: packing it only cost time
  // (attention's 128 x 128 x 32 scores: 63 -> 72-81 GFLOP/s unpacked, bench/gemm.ts, one thread).
  const bool pack_a_panels = N > nr && K > 64;
  const bool pack_b_panels = p.tb || M > MR;
  const TileFn* tiles = half ? (pack_a_panels ? kHalfTiles.data() : kHalfTilesInPlace.data())
                             : (pack_a_panels ? kTiles.data() : kTilesInPlace.data());
  // op(A)(i, k) = A[i * rsa + k * csa]
  const int64_t rsa = p.ta ? 1 : p.lda, csa = p.ta ? p.lda : 1;

  // The reduction's blocks: a function of K alone (see Blocking).
  const int kblocks = ceil_div(K, bl.KC), kcn = ceil_div(K, kblocks);
  // Row blocks of about MC rows, balanced to within one tile, and a multiple of the thread count when there are
  // enough tiles so that threads get equal shares. With fewer row blocks than threads, the slivers of B are also
  // split (nchunks below). Neither choice changes any C element's arithmetic.
  const int nt = p.threads;
  const int mtiles = ceil_div(M, MR);
  int mblocks = ceil_div(mtiles, bl.MC / MR);
  if (nt > 1) mblocks = std::min(mtiles, ceil_div(mblocks, nt) * nt);
  const int max_block_tiles = ceil_div(mtiles, mblocks);

  const int64_t b_floats = pack_b_panels ? static_cast<int64_t>(kcn) * ceil_div(std::min(N, bl.NC), nr) * nr : 0;
  const int64_t a_floats = pack_a_panels ? static_cast<int64_t>(kcn) * max_block_tiles * MR : 0;
  float* const buffer = scratch(b_floats + nt * a_floats + 16);
  float* const bpack = buffer;

#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    float* const apack = buffer + b_floats + omp_get_thread_num() * a_floats;
    for (int jc = 0; jc < N; jc += bl.NC) {
      const int nc = std::min(bl.NC, N - jc), slivers = ceil_div(nc, nr);
      const int nchunks = mblocks >= nt ? 1 : std::min(slivers, ceil_div(nt, mblocks));
      for (int kb = 0; kb < kblocks; kb++) {
        const int k0 = kb * kcn, kc = std::min(kcn, K - k0);
        // Later blocks of k add to what the first wrote.
        const float beta = kb == 0 ? p.beta : 1.0f;
        if (pack_b_panels) {
#pragma omp for schedule(static)
          for (int s = 0; s < slivers; s++)
            pack_b(p, k0, kc, jc + s * nr, std::min(nr, nc - s * nr), nr, bpack + static_cast<int64_t>(s) * kc * nr);
        }
        int packed_block = -1;
#pragma omp for schedule(static)
        for (int u = 0; u < mblocks * nchunks; u++) {
          const int ib = u / nchunks, ch = u % nchunks;
          const int t0 = static_cast<int>(static_cast<int64_t>(ib) * mtiles / mblocks);
          const int t1 = static_cast<int>(static_cast<int64_t>(ib + 1) * mtiles / mblocks);
          const int s0 = ch * slivers / nchunks, s1 = (ch + 1) * slivers / nchunks;
          if (pack_a_panels && packed_block != ib) {
            for (int t = t0; t < t1; t++)
              pack_a<MR>(p, t * MR, std::min(MR, M - t * MR), k0, kc, apack + static_cast<int64_t>(t - t0) * MR * kc);
            packed_block = ib;
          }
          for (int s = s0; s < s1; s++) {
            const int j = jc + s * nr, n = std::min(nr, N - j);
            const float* b = pack_b_panels ? bpack + static_cast<int64_t>(s) * kc * nr : p.B + k0 * p.ldb + j;
            const int64_t rsb = pack_b_panels ? nr : p.ldb;
            for (int t = t0; t < t1; t++) {
              const int i = t * MR, m = std::min(MR, M - i);
              const float* a = pack_a_panels ? apack + static_cast<int64_t>(t - t0) * MR * kc : p.A + i * rsa + k0 * csa;
              tiles[m](kc, n, a, rsa, csa, b, rsb, p.C + i * p.ldc + j, p.ldc, p.alpha, beta);
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace pk::gemm_impl
