{
  "targets": [
    {
      "target_name": "pharmacist_native",
      "sources": [
        "src/addon.cc",
        "src/kernels/gemm.cc",
        "src/kernels/activation.cc",
        "src/kernels/softmax.cc",
        "src/kernels/norm.cc",
        "src/kernels/rope.cc",
        "src/kernels/optim.cc"
      ],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")", "src"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-O3", "-march=x86-64-v3", "-fopenmp", "-fno-math-errno", "-fno-trapping-math", "-std=c++17"],
      "libraries": ["-lopenblas", "-fopenmp"]
    }
  ]
}
