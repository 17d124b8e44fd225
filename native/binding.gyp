# The addon is compiled for the architecture's baseline, so it loads on any x86-64 (or arm64); the code that
# wants wider vectors is compiled into static libraries with per-file flags and chosen at run time by CPUID:
#   pk_x86_64_v3: the row kernels (activation, softmax, attention, norm, rope, optim; they rely on autovectorization and
#                 were tuned with -march=x86-64-v3) and the AVX2 GEMM micro-kernel, with -mavx2 -mfma;
#                 dispatch.cc and kernels/gemm.cc call them where CPUID reports AVX2 and FMA.
#   pk_avx512:    the AVX-512 GEMM micro-kernel, called where CPUID reports AVX-512F/VL/BW/DQ.
# The same row-kernel sources are compiled a second time into the addon itself (namespace pk::base) for other
# CPUs. The linker keeps the addon's own copy of any inline function both define (its objects come first).
# OpenBLAS is optional: compiled in (PK_HAVE_OPENBLAS, selectable with PHARMACIST_GEMM=openblas) when
# scripts/detect-openblas.mjs can compile and link against it; our GEMM is the default either way.
{
  "variables": {
    "pk_openblas%": "<!(node ../scripts/detect-openblas.mjs)",
    "pk_row_kernels": [
      "src/kernels/activation.cc",
      "src/kernels/softmax.cc",
      "src/kernels/attention.cc",
      "src/kernels/norm.cc",
      "src/kernels/rope.cc",
      "src/kernels/optim.cc"
    ]
  },
  "target_defaults": {
    "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")", "src"],
    "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-O3", "-fPIC", "-fopenmp", "-fno-math-errno", "-fno-trapping-math", "-std=c++17"]
  },
  "targets": [
    {
      "target_name": "pharmacist_native",
      "sources": [
        "src/addon.cc",
        "src/dispatch.cc",
        "src/kernels/gemm.cc",
        "src/kernels/gemm_portable.cc",
        "<@(pk_row_kernels)"
      ],
      "defines": ["PK_ISA=base"],
      "libraries": ["-fopenmp"],
      "conditions": [
        ["target_arch=='x64'", {"defines": ["PK_X86_DISPATCH"], "dependencies": ["pk_x86_64_v3", "pk_avx512"]}],
        ["pk_openblas==1", {"defines": ["PK_HAVE_OPENBLAS"], "libraries": ["-lopenblas"]}]
      ]
    }
  ],
  "conditions": [
    [
      "target_arch=='x64'",
      {
        "targets": [
          {
            "target_name": "pk_x86_64_v3",
            "type": "static_library",
            "sources": ["src/kernels/gemm_avx2.cc", "<@(pk_row_kernels)"],
            "defines": ["PK_ISA=x86_64_v3"],
            "cflags_cc": ["-mavx2", "-mfma"]
          },
          {
            "target_name": "pk_avx512",
            "type": "static_library",
            "sources": ["src/kernels/gemm_avx512.cc"],
            "cflags_cc": ["-mavx2", "-mfma", "-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq"]
          }
        ]
      }
    ]
  ]
}
