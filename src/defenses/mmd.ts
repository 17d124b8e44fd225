/**
 * Multi-kernel Gaussian maximum mean discrepancy between the rows of x [n, f] and y [m, f], as RepNoise
 * computes it: kernels exp(-d / (b * mul^i)) for i < kernels over pairwise squared distances d of the stacked
 * rows, the base bandwidth b = mean off-diagonal distance / mul^(kernels div 2) (a constant: no gradient),
 * MMD = mean K_xx + mean K_yy - mean K_xy - mean K_yx. Zero when x and y are the same rows.
 */
import { add, concat, exp, matmul, mean, mul, scale, slice, sum, transpose, type Tensor } from '../engine/index.js';

/** `bandwidth` overrides the data-derived base bandwidth. */
export function gaussianMmd(x: Tensor, y: Tensor, kernels = 5, kernelMul = 2, bandwidth?: number): Tensor {
  const n = x.shape[0],
    m = y.shape[0],
    N = n + m;
  const z = concat([x, y], 0);
  const squares = sum(mul(z, z), { axes: [1], keepDims: true }); // [N, 1]
  const d = add(add(squares, transpose(squares)), scale(matmul(z, z, { transB: true }), -2)); // [N, N]
  let offDiagonal = 0;
  for (let i = 0; i < N * N; i++) if (Math.floor(i / N) !== i % N) offDiagonal += d.data[i];
  const base = bandwidth ?? Math.max(offDiagonal / (N * N - N), 1e-12) / kernelMul ** Math.floor(kernels / 2);
  let k: Tensor | null = null;
  for (let i = 0; i < kernels; i++) {
    const ki = exp(scale(d, -1 / (base * kernelMul ** i)));
    k = k ? add(k, ki) : ki;
  }
  const block = (r0: number, r1: number, c0: number, c1: number) => mean(slice(slice(k!, 0, r0, r1), 1, c0, c1));
  return add(add(block(0, n, 0, n), block(n, N, n, N)), scale(add(block(0, n, n, N), block(n, N, 0, n)), -1));
}
