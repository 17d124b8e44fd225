// GEMM entry point: handles the degenerate cases, decides the thread count, and calls the implementation in
// use: ours (gemm_driver.h with the micro-kernel CPUID allows) or, when the addon was built with it
// (PK_HAVE_OPENBLAS, see scripts/detect-openblas.mjs) and selected, OpenBLAS. Also owns the thread count,
// which the OpenMP kernels and OpenBLAS share.
#include <omp.h>
#include <cstring>
#include <string>
#include "gemm.h"
#include "kernels.h"

#if defined(PK_HAVE_OPENBLAS)
#include <cblas.h>
extern "C" {
void openblas_set_num_threads(int);
char* openblas_get_corename(void);
}
#endif

namespace pk {

namespace {

enum class Impl { portable, avx2, avx512, openblas };

struct ImplInfo {
  Impl impl;
  const char* name;
  bool available;
};

#if defined(__x86_64__)
bool cpu_has(bool avx512) {
  __builtin_cpu_init();  // may run before libgcc's own CPU detection constructor
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!avx512) return avx2;
  return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}
#endif

const ImplInfo* impls() {
  static const ImplInfo table[] = {
      {Impl::portable, "portable", true},
#if defined(__x86_64__)
      {Impl::avx2, "avx2", cpu_has(false)},
      {Impl::avx512, "avx512", cpu_has(true)},
#else
      {Impl::avx2, "avx2", false},
      {Impl::avx512, "avx512", false},
#endif
#if defined(PK_HAVE_OPENBLAS)
      {Impl::openblas, "openblas", true},
#else
      {Impl::openblas, "openblas", false},
#endif
  };
  return table;
}
constexpr int kImpls = 4;

// Ours, the widest this CPU runs. OpenBLAS is never the default: ours measured faster on the model's shapes
// (bench/gemm.ts), and its results would change with its own kernel choice and threading.
Impl best_of_ours() {
  for (int i = 2; i >= 0; i--)
    if (impls()[i].available) return impls()[i].impl;
  return Impl::portable;
}

Impl g_impl = best_of_ours();
int g_threads = 1;

// Below this many multiply-adds (2^21, ~10-20 us of one core) a product runs on one thread: waking the sleeping
// OpenMP workers (OMP_WAIT_POLICY=PASSIVE, see src/engine/backends/native/index.ts) costs more than it saves.
// Measured with bench/gemm.ts at 2 threads: attention's per-head 128 x 128 x 32 products ran at 38 GFLOP/s
// threaded (threshold 2^18) and 76 on one thread. Only the work split depends on it, never the arithmetic.
constexpr int64_t kParallelMinMacs = int64_t{1} << 21;

}  // namespace

void set_threads(int n) {
  g_threads = n < 1 ? 1 : n;
#if defined(PK_HAVE_OPENBLAS)
  openblas_set_num_threads(g_threads);
#endif
  omp_set_num_threads(g_threads);
}

int get_threads() { return g_threads; }

const char* blas_core() {
#if defined(PK_HAVE_OPENBLAS)
  if (g_impl == Impl::openblas) {
    static const std::string core = std::string("openblas-") + openblas_get_corename();
    return core.c_str();
  }
#endif
  static const std::string names[] = {"pharmacist-portable", "pharmacist-avx2", "pharmacist-avx512"};
  return names[static_cast<int>(g_impl)].c_str();
}

const char* gemm_kernels() {
  static const std::string list = [] {
    std::string s;
    for (int i = 0; i < kImpls; i++)
      if (impls()[i].available) s += (s.empty() ? "" : ",") + std::string(impls()[i].name);
    return s;
  }();
  return list.c_str();
}

bool set_gemm_kernel(const char* name) {
  if (std::strcmp(name, "auto") == 0 || std::strcmp(name, "pharmacist") == 0) {
    g_impl = best_of_ours();
    return true;
  }
  for (int i = 0; i < kImpls; i++)
    if (impls()[i].available && std::strcmp(name, impls()[i].name) == 0) {
      g_impl = impls()[i].impl;
      return true;
    }
  return false;
}

namespace {

// Ours (impl is not openblas) on `threads` threads, or on one when the product is small.
void run_ours(Impl impl, int threads, bool ta, bool tb, int M, int N, int K, float alpha, const float* A,
              int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  // No products to add (cblas semantics: A and B are not read): C = beta C, and beta == 0 writes zeros.
  if (K <= 0 || alpha == 0.0f) {
    for (int i = 0; i < M; i++) {
      float* c = C + static_cast<int64_t>(i) * ldc;
      if (beta == 0.0f)
        std::memset(c, 0, sizeof(float) * N);
      else if (beta != 1.0f)
        for (int j = 0; j < N; j++) c[j] *= beta;
    }
    return;
  }
  const int64_t macs = static_cast<int64_t>(M) * N * K;
  const gemm_impl::Problem p{ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, macs >= kParallelMinMacs ? threads : 1};
  switch (impl) {
#if defined(__x86_64__)
    case Impl::avx512:
      gemm_impl::gemm_avx512(p);
      return;
    case Impl::avx2:
      gemm_impl::gemm_avx2(p);
      return;
#endif
    default:
      gemm_impl::gemm_portable(p);
  }
}

}  // namespace

void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
#if defined(PK_HAVE_OPENBLAS)
  if (g_impl == Impl::openblas) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A,
                lda, B, ldb, beta, C, ldc);
    return;
  }
#endif
  run_ours(g_impl, g_threads, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_serial(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int64_t lda, const float* B,
                 int64_t ldb, float beta, float* C, int64_t ldc) {
  run_ours(g_impl == Impl::openblas ? best_of_ours() : g_impl, 1, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace pk
