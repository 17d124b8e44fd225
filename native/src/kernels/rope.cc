// Rotary position embedding over x [B*T, H, D]; the backward is the same rotation by the negative angle.
#include "kernels.h"

namespace pk::PK_ISA {

void rope(const float* x, float* y, const float* cos, const float* sin, const int32_t* positions, int64_t BT, int H,
          int D, int rotary_dim, bool interleaved, bool inverse) {
  const int half = rotary_dim / 2;
  const float sign = inverse ? -1.0f : 1.0f;
#pragma omp parallel for schedule(static)
  for (int64_t bt = 0; bt < BT; bt++) {
    const float* cr = cos + static_cast<int64_t>(positions[bt]) * half;
    const float* sr = sin + static_cast<int64_t>(positions[bt]) * half;
    for (int h = 0; h < H; h++) {
      const int64_t o = (bt * H + h) * D;
      for (int i = 0; i < half; i++) {
        const float c = cr[i], s = sign * sr[i];
        const int64_t i0 = interleaved ? o + 2 * i : o + i;
        const int64_t i1 = interleaved ? o + 2 * i + 1 : o + i + half;
        const float a = x[i0], b = x[i1];
        y[i0] = a * c - b * s;
        y[i1] = a * s + b * c;
      }
      for (int d = rotary_dim; d < D; d++) y[o + d] = x[o + d];
    }
  }
}

}  // namespace pk::PK_ISA
