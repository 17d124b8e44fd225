// GEMM through OpenBLAS, the one cblas user; threads shared with the OpenMP kernels.
#include <cblas.h>
#include <omp.h>
#include "kernels.h"

extern "C" {
void openblas_set_num_threads(int);
char* openblas_get_corename(void);
}

namespace pk {

static int g_threads = 1;

void set_threads(int n) {
  g_threads = n < 1 ? 1 : n;
  openblas_set_num_threads(g_threads);
  omp_set_num_threads(g_threads);
}

int get_threads() { return g_threads; }

const char* blas_core() { return openblas_get_corename(); }

void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda,
              B, ldb, beta, C, ldc);
}

}  // namespace pk
