// N-API registration only: unpack arguments, check the GEMM extents, call the kernels in kernels.h.
// The TypeScript wrapper (src/engine/backends/native/index.ts) guarantees argument types.
#include <malloc.h>
#include <napi.h>
#include <string>
#include "kernels.h"

namespace {

float* F(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Float32Array>().Data(); }
float* FOrNull(const Napi::CallbackInfo& info, size_t i) { return info[i].IsNull() ? nullptr : F(info, i); }
int64_t Len(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Float32Array>().ElementLength(); }
int32_t* I32(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Int32Array>().Data(); }
int64_t Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }
double Num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
bool Bool(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Boolean>().Value(); }

// Largest index touched by a row-major rows x cols view with leading dimension ld, plus one.
int64_t Extent(int64_t off, int64_t rows, int64_t cols, int64_t ld) {
  return rows == 0 || cols == 0 ? off : off + (rows - 1) * ld + cols;
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  const bool ta = Bool(info, 0), tb = Bool(info, 1);
  const int64_t M = Int(info, 2), N = Int(info, 3), K = Int(info, 4);
  const int64_t aOff = Int(info, 7), lda = Int(info, 8), bOff = Int(info, 10), ldb = Int(info, 11);
  const int64_t cOff = Int(info, 14), ldc = Int(info, 15);
  const bool okA = Extent(aOff, ta ? K : M, ta ? M : K, lda) <= Len(info, 6);
  const bool okB = Extent(bOff, tb ? N : K, tb ? K : N, ldb) <= Len(info, 9);
  const bool okC = Extent(cOff, M, N, ldc) <= Len(info, 13);
  if (!okA || !okB || !okC) {
    Napi::RangeError::New(info.Env(), std::string("gemm: operand ") + (!okA ? "A" : !okB ? "B" : "C") +
                                          " is too small for the given M, N, K, offset and leading dimension")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  if (M > 0 && N > 0)
    pk::gemm(ta, tb, M, N, K, static_cast<float>(Num(info, 5)), F(info, 6) + aOff, lda, F(info, 9) + bOff, ldb,
             static_cast<float>(Num(info, 12)), F(info, 13) + cOff, ldc);
  return info.Env().Undefined();
}

Napi::Value UnaryForward(const Napi::CallbackInfo& info) {
  pk::unary_forward(Int(info, 0), F(info, 1), F(info, 2), Len(info, 1));
  return info.Env().Undefined();
}

Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  pk::unary_backward(Int(info, 0), F(info, 1), F(info, 2), F(info, 3), F(info, 4), Len(info, 1));
  return info.Env().Undefined();
}

Napi::Value GatedForward(const Napi::CallbackInfo& info) {
  pk::gated_forward(Int(info, 0), F(info, 1), F(info, 2), F(info, 3), Len(info, 1));
  return info.Env().Undefined();
}

Napi::Value GatedBackward(const Napi::CallbackInfo& info) {
  pk::gated_backward(Int(info, 0), F(info, 1), F(info, 2), F(info, 3), F(info, 4), F(info, 5), Len(info, 1));
  return info.Env().Undefined();
}

Napi::Value SoftmaxForward(const Napi::CallbackInfo& info) {
  pk::softmax_forward(F(info, 0), F(info, 1), Int(info, 2), Int(info, 3), Bool(info, 4));
  return info.Env().Undefined();
}

Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  pk::softmax_backward(F(info, 0), F(info, 1), F(info, 2), Int(info, 3), Int(info, 4), Bool(info, 5));
  return info.Env().Undefined();
}

Napi::Value AttentionSoftmaxForward(const Napi::CallbackInfo& info) {
  pk::attention_softmax_forward(F(info, 0), Int(info, 1), Int(info, 2), Int(info, 3), Int(info, 4), Int(info, 5),
                                FOrNull(info, 6), Int(info, 7));
  return info.Env().Undefined();
}

// q, k, v, probs, capped (or null), out, B, H, Hkv, Tq, Tk, D, scale, softcap, causalOffset, keyMask (or null), window
Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  pk::attention_forward(F(info, 0), F(info, 1), F(info, 2), F(info, 3), FOrNull(info, 4), F(info, 5), Int(info, 6),
                        Int(info, 7), Int(info, 8), Int(info, 9), Int(info, 10), Int(info, 11),
                        static_cast<float>(Num(info, 12)), Num(info, 13), Int(info, 14), FOrNull(info, 15),
                        Int(info, 16));
  return info.Env().Undefined();
}

// q, k, v, probs, capped (or null), dOut, dq, dk, dv, B, H, Hkv, Tq, Tk, D, scale
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  pk::attention_backward(F(info, 0), F(info, 1), F(info, 2), F(info, 3), FOrNull(info, 4), F(info, 5), F(info, 6),
                         F(info, 7), F(info, 8), Int(info, 9), Int(info, 10), Int(info, 11), Int(info, 12),
                         Int(info, 13), Int(info, 14), static_cast<float>(Num(info, 15)));
  return info.Env().Undefined();
}

Napi::Value CrossEntropyForward(const Napi::CallbackInfo& info) {
  pk::cross_entropy_forward(F(info, 0), I32(info, 1), F(info, 2), Int(info, 3), Int(info, 4), Int(info, 5));
  return info.Env().Undefined();
}

Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  pk::cross_entropy_backward(F(info, 0), I32(info, 1), F(info, 2), F(info, 3), Int(info, 4), Int(info, 5),
                             Int(info, 6));
  return info.Env().Undefined();
}

Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  pk::layernorm_forward(F(info, 0), F(info, 1), FOrNull(info, 2), F(info, 3), F(info, 4), F(info, 5), Int(info, 6),
                        Int(info, 7), static_cast<float>(Num(info, 8)));
  return info.Env().Undefined();
}

Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  pk::layernorm_backward(F(info, 0), F(info, 1), F(info, 2), F(info, 3), F(info, 4), F(info, 5), FOrNull(info, 6),
                         FOrNull(info, 7), Int(info, 8), Int(info, 9));
  return info.Env().Undefined();
}

Napi::Value RmsNormForward(const Napi::CallbackInfo& info) {
  pk::rmsnorm_forward(F(info, 0), F(info, 1), F(info, 2), F(info, 3), Int(info, 4), Int(info, 5),
                      static_cast<float>(Num(info, 6)), static_cast<float>(Num(info, 7)));
  return info.Env().Undefined();
}

Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  pk::rmsnorm_backward(F(info, 0), F(info, 1), F(info, 2), F(info, 3), F(info, 4), FOrNull(info, 5), Int(info, 6),
                       Int(info, 7), static_cast<float>(Num(info, 8)));
  return info.Env().Undefined();
}

Napi::Value Rope(const Napi::CallbackInfo& info) {
  pk::rope(F(info, 0), F(info, 1), F(info, 2), F(info, 3), I32(info, 4), Int(info, 5), Int(info, 6), Int(info, 7),
           Int(info, 8), Bool(info, 9), Bool(info, 10));
  return info.Env().Undefined();
}

Napi::Value SumRows(const Napi::CallbackInfo& info) {
  pk::sum_rows(F(info, 0), F(info, 1), Int(info, 2), Int(info, 3));
  return info.Env().Undefined();
}

Napi::Value Accumulate(const Napi::CallbackInfo& info) {
  const int64_t n = Len(info, 0);
  if (Len(info, 1) != n) {
    Napi::RangeError::New(info.Env(), "accumulate: arrays differ in length").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  pk::accumulate(F(info, 0), F(info, 1), n);
  return info.Env().Undefined();
}

Napi::Value AdamW(const Napi::CallbackInfo& info) {
  auto f = [&](size_t i) { return static_cast<float>(Num(info, i)); };
  pk::adamw(F(info, 0), F(info, 1), F(info, 2), F(info, 3), Len(info, 0), f(4), f(5), f(6), f(7), f(8), f(9), f(10));
  return info.Env().Undefined();
}

Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), pk::sum_squares(F(info, 0), Len(info, 0)));
}

Napi::Value DropoutMultiply(const Napi::CallbackInfo& info) {
  const int64_t n = Len(info, 0);
  if (Len(info, 1) != n) {
    Napi::RangeError::New(info.Env(), "dropoutMultiply: arrays differ in length").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  pk::dropout_multiply(F(info, 0), F(info, 1), n, info[2].As<Napi::Number>().DoubleValue(), info[3].As<Napi::Number>().DoubleValue(),
                       info[4].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  pk::set_threads(Int(info, 0));
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), pk::get_threads()); }

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("blasCore", pk::blas_core());
  o.Set("gemmKernels", pk::gemm_kernels());
  o.Set("openmp", true);
  return o;
}

// Chooses the GEMM implementation by name (see pk::set_gemm_kernel); false when this build or CPU lacks it.
Napi::Value SetGemmKernel(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), pk::set_gemm_kernel(info[0].As<Napi::String>().Utf8Value().c_str()));
}

// Node allocates typed arrays with calloc. Above glibc's mmap threshold each big activation or gradient
// buffer is a fresh mmap whose pages fault on first touch, and is unmapped when collected: measured at a
// quarter of a training step. Serving blocks up to 32 MiB (glibc's maximum) from the heap and keeping
// freed memory lets steps reuse warm pages; the heap still peaks at one step's working set.
void KeepLargeBuffersInHeap() {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  KeepLargeBuffersInHeap();
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("unaryForward", Napi::Function::New(env, UnaryForward));
  exports.Set("unaryBackward", Napi::Function::New(env, UnaryBackward));
  exports.Set("gatedForward", Napi::Function::New(env, GatedForward));
  exports.Set("gatedBackward", Napi::Function::New(env, GatedBackward));
  exports.Set("softmaxForward", Napi::Function::New(env, SoftmaxForward));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward));
  exports.Set("attentionSoftmaxForward", Napi::Function::New(env, AttentionSoftmaxForward));
  exports.Set("attentionForward", Napi::Function::New(env, AttentionForward));
  exports.Set("attentionBackward", Napi::Function::New(env, AttentionBackward));
  exports.Set("crossEntropyForward", Napi::Function::New(env, CrossEntropyForward));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward));
  exports.Set("layerNormForward", Napi::Function::New(env, LayerNormForward));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward));
  exports.Set("rmsNormForward", Napi::Function::New(env, RmsNormForward));
  exports.Set("rmsNormBackward", Napi::Function::New(env, RmsNormBackward));
  exports.Set("rope", Napi::Function::New(env, Rope));
  exports.Set("sumRows", Napi::Function::New(env, SumRows));
  exports.Set("accumulate", Napi::Function::New(env, Accumulate));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
  exports.Set("sumSquares", Napi::Function::New(env, SumSquares));
  exports.Set("dropoutMultiply", Napi::Function::New(env, DropoutMultiply));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setGemmKernel", Napi::Function::New(env, SetGemmKernel));
  return exports;
}

}  // namespace

NODE_API_MODULE(pharmacist_native, Init)
