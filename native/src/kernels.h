// Flat CPU kernels behind the native backend. Every function mirrors one method of the TypeScript
// Backend interface (src/engine/backends/backend.ts), which defines its meaning; see that file for shapes.
// Legend: R rows, C columns, V vocabulary, B batch, H heads, T time, D head size.
#pragma once
#include <cstdint>

namespace pk {

void set_threads(int n);
int get_threads();
const char* blas_core();

void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc);

void unary_forward(int code, const float* x, float* y, int64_t n);
void unary_backward(int code, const float* x, const float* y, const float* dy, float* dx, int64_t n);

void softmax_forward(const float* x, float* y, int64_t R, int64_t C, bool log);
void softmax_backward(const float* y, const float* dy, float* dx, int64_t R, int64_t C, bool log);
void attention_softmax_forward(float* scores, int B, int H, int Tq, int Tk, int causal_offset, const float* key_mask, int window);
void cross_entropy_forward(const float* logits, const int32_t* targets, float* row_loss, int64_t R, int64_t V, int ignore);
void cross_entropy_backward(const float* logits, const int32_t* targets, const float* row_scale, float* dlogits,
                            int64_t R, int64_t V, int ignore);

void layernorm_forward(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd,
                       int64_t R, int64_t C, float eps);
void layernorm_backward(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                        float* dx, float* dw, float* db, int64_t R, int64_t C);
void rmsnorm_forward(const float* x, const float* w, float* y, float* rstd, int64_t R, int64_t C, float eps, float offset);
void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw,
                      int64_t R, int64_t C, float offset);

void rope(const float* x, float* y, const float* cos, const float* sin, const int32_t* positions, int64_t BT, int H,
          int D, int rotary_dim, bool interleaved, bool inverse);

void accumulate(float* target, const float* source, int64_t n);
void sum_rows(const float* x, float* out, int64_t R, int64_t C);
void adamw(float* p, const float* g, float* m, float* v, int64_t n, float lr, float b1, float b2, float eps, float wd,
           float bc1, float bc2);
double sum_squares(const float* x, int64_t n);
void dropout_multiply(const float* x, float* out, int64_t n, double p, double keep, uint32_t seed);

}  // namespace pk
