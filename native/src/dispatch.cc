// Run-time choice of the row kernels' instruction set (see PK_ROW_KERNELS in kernels.h). The addon is built
// for the architecture's baseline so that it loads on any x86-64; the same sources compiled with AVX2 + FMA
// (the pk::x86_64_v3 static library in binding.gyp) run where CPUID reports both, as they ran before when the
// whole addon was built with -march=x86-64-v3. One build therefore gives the same bits on one machine run to
// run; two machines of different ISA may differ in the last bits (FMA contraction), as two builds did before.
#include "kernels.h"

namespace pk {

namespace {
#if defined(PK_X86_DISPATCH)
// The v3 library is compiled with -mavx2 -mfma only, so these two (and the OS support for AVX state, which
// __builtin_cpu_supports checks through XGETBV) are all it needs. A function-local static: it may run before
// libgcc's own CPU detection constructor, hence the explicit __builtin_cpu_init.
bool use_v3() {
  static const bool v3 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
  return v3;
}
#endif
}  // namespace

#if defined(PK_X86_DISPATCH)
#define PK_DISPATCH_KERNEL(ret, name, params, args) \
  ret name params { return use_v3() ? x86_64_v3::name args : base::name args; }
#else
#define PK_DISPATCH_KERNEL(ret, name, params, args) \
  ret name params { return base::name args; }
#endif
PK_ROW_KERNELS(PK_DISPATCH_KERNEL)
#undef PK_DISPATCH_KERNEL

}  // namespace pk
