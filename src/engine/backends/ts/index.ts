/**
 * The reference backend: plain TypeScript loops. It defines what every kernel means, runs anywhere,
 * and accepts Float64Array so gradient checks can run in double precision. It is the automatic
 * fallback when the native addon is not built.
 */
import type { FloatArray } from '../../tensor.js';
import {
  dropoutDraw,
  type AdamWStep,
  type AttentionMaskSpec,
  type AttentionSpec,
  type Backend,
  type UnaryKind,
} from '../backend.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * erf to about 1e-15 (Math has none): the Taylor series below 2.5, the erfc continued fraction above.
 * Float64 gradient checks of exact GELU need this precision; polynomial fits (1e-7) would show up.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // Continued fraction for erfc (Lentz), accurate for ax >= 2.5.
  const x2 = ax * ax;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-x2) / (f * Math.sqrt(Math.PI));
  return x < 0 ? erfc - 1 : 1 - erfc;
}

function unaryValue(kind: UnaryKind, x: number): number {
  switch (kind) {
    case 'exp':
      return Math.exp(x);
    case 'log':
      return Math.log(x);
    case 'sqrt':
      return Math.sqrt(x);
    case 'tanh':
      return Math.tanh(x);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'gelu':
      return 0.5 * x * (1 + erf(x * INV_SQRT_2));
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case 'relu':
      return x > 0 ? x : 0;
  }
}

function unaryDerivative(kind: UnaryKind, x: number, y: number): number {
  switch (kind) {
    case 'exp':
      return y;
    case 'log':
      return 1 / x;
    case 'sqrt':
      return 0.5 / y;
    case 'tanh':
      return 1 - y * y;
    case 'sigmoid':
      return y * (1 - y);
    case 'silu': {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    }
    case 'gelu':
      return 0.5 * (1 + erf(x * INV_SQRT_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case 'gelu_tanh': {
      const u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
      const t = Math.tanh(u);
      const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
    }
    case 'relu':
      return x > 0 ? 1 : 0;
  }
}

/** Copy op(M) (rows x cols after the transpose) into a dense row-major buffer. */
function packTransposed(M: FloatArray, off: number, ld: number, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = M[off + c * ld + r];
  return out;
}

/** Offsets of the (batch, head) slices of attention's arrays: q and out rows of H*D, k and v rows of Hkv*D. */
function attentionLayout({ H, Hkv, Tq, Tk, D }: AttentionSpec) {
  const group = H / Hkv,
    ldq = H * D,
    ldk = Hkv * D;
  return {
    group,
    ldq,
    ldk,
    qOff: (b: number, h: number) => b * Tq * ldq + h * D,
    kOff: (b: number, h: number) => b * Tk * ldk + Math.floor(h / group) * D,
    pOff: (b: number, h: number) => (b * H + h) * Tq * Tk,
  };
}

export function createTsBackend(): Backend {
  const backend: Backend = {
    name: 'ts',
    threads: () => 1,
    setThreads: () => undefined,

    gemm(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) {
      let a: FloatArray = A,
        ao = aOff,
        al = lda;
      if (transA) {
        a = packTransposed(A, aOff, lda, M, K);
        ao = 0;
        al = K;
      }
      let b: FloatArray = B,
        bo = bOff,
        bl = ldb;
      if (transB) {
        b = packTransposed(B, bOff, ldb, K, N);
        bo = 0;
        bl = N;
      }
      const row = new Float64Array(N);
      for (let i = 0; i < M; i++) {
        row.fill(0);
        for (let p = 0; p < K; p++) {
          const av = a[ao + i * al + p];
          if (av === 0) continue;
          const bRow = bo + p * bl;
          for (let j = 0; j < N; j++) row[j] += av * b[bRow + j];
        }
        const cRow = cOff + i * ldc;
        for (let j = 0; j < N; j++) C[cRow + j] = alpha * row[j] + (beta === 0 ? 0 : beta * C[cRow + j]);
      }
    },

    unaryForward(kind, x, y) {
      for (let i = 0; i < x.length; i++) y[i] = unaryValue(kind, x[i]);
    },

    unaryBackward(kind, x, y, dy, dx) {
      for (let i = 0; i < x.length; i++) dx[i] = dy[i] * unaryDerivative(kind, x[i], y[i]);
    },

    // The products go through the arrays' own precision (fround for float32), as the unfused ops stored them.
    gatedForward(kind, gate, up, out) {
      const a = new (gate instanceof Float64Array ? Float64Array : Float32Array)(1);
      for (let i = 0; i < gate.length; i++) {
        a[0] = unaryValue(kind, gate[i]);
        out[i] = a[0] * up[i];
      }
    },

    gatedBackward(kind, gate, up, dOut, dGate, dUp) {
      const t = new (gate instanceof Float64Array ? Float64Array : Float32Array)(2);
      for (let i = 0; i < gate.length; i++) {
        t[0] = unaryValue(kind, gate[i]); // f(gate)
        t[1] = dOut[i] * up[i]; // the gradient reaching f(gate)
        dUp[i] = dOut[i] * t[0];
        dGate[i] = t[1] * unaryDerivative(kind, gate[i], t[0]);
      }
    },

    softmaxForward(x, y, R, C, log) {
      for (let r = 0; r < R; r++) {
        const o = r * C;
        let max = -Infinity;
        for (let c = 0; c < C; c++) if (x[o + c] > max) max = x[o + c];
        let sum = 0;
        for (let c = 0; c < C; c++) sum += Math.exp(x[o + c] - max);
        if (log) {
          const lse = max + Math.log(sum);
          for (let c = 0; c < C; c++) y[o + c] = x[o + c] - lse;
        } else {
          for (let c = 0; c < C; c++) y[o + c] = Math.exp(x[o + c] - max) / sum;
        }
      }
    },

    softmaxBackward(y, dy, dx, R, C, log) {
      for (let r = 0; r < R; r++) {
        const o = r * C;
        let s = 0;
        if (log) {
          for (let c = 0; c < C; c++) s += dy[o + c];
          for (let c = 0; c < C; c++) dx[o + c] = dy[o + c] - Math.exp(y[o + c]) * s;
        } else {
          for (let c = 0; c < C; c++) s += dy[o + c] * y[o + c];
          for (let c = 0; c < C; c++) dx[o + c] = y[o + c] * (dy[o + c] - s);
        }
      }
    },

    attentionSoftmaxForward(scores, { B, H, Tq, Tk, causalOffset, keyMask, window = 0 }: AttentionMaskSpec) {
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          for (let i = 0; i < Tq; i++) {
            const o = ((b * H + h) * Tq + i) * Tk;
            const last = causalOffset >= 0 ? Math.min(Tk - 1, i + causalOffset) : Tk - 1;
            const first = causalOffset >= 0 && window > 0 ? Math.max(0, i + causalOffset - window + 1) : 0;
            let max = -Infinity;
            for (let j = first; j <= last; j++) {
              if (keyMask && keyMask[b * Tk + j] === 0) continue;
              if (scores[o + j] > max) max = scores[o + j];
            }
            if (max === -Infinity) {
              for (let j = 0; j < Tk; j++) scores[o + j] = 0;
              continue;
            }
            let sum = 0;
            for (let j = 0; j < Tk; j++) {
              const visible = j >= first && j <= last && !(keyMask && keyMask[b * Tk + j] === 0);
              const e = visible ? Math.exp(scores[o + j] - max) : 0;
              scores[o + j] = e;
              sum += e;
            }
            for (let j = 0; j < Tk; j++) scores[o + j] /= sum;
          }
        }
      }
    },

    // Per (batch, head) slice: the products read q, k, v in place through leading dimensions.
    attentionForward(q, k, v, probs, capped, out, spec) {
      const { B, H, Tq, Tk, scale, softcap } = spec;
      const { qOff, kOff, pOff, ldq, ldk } = attentionLayout(spec);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++)
          backend.gemm(
            false,
            true,
            Tq,
            Tk,
            spec.D,
            scale,
            q,
            qOff(b, h),
            ldq,
            k,
            kOff(b, h),
            ldk,
            0,
            probs,
            pOff(b, h),
            Tk,
          );
      if (softcap > 0) {
        for (let i = 0; i < probs.length; i++) {
          const t = Math.tanh(probs[i] / softcap);
          capped![i] = t;
          probs[i] = softcap * t;
        }
      }
      backend.attentionSoftmaxForward(probs, spec);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++)
          backend.gemm(
            false,
            false,
            Tq,
            spec.D,
            Tk,
            1,
            probs,
            pOff(b, h),
            Tk,
            v,
            kOff(b, h),
            ldk,
            0,
            out,
            qOff(b, h),
            ldq,
          );
    },

    // dK and dV of a KV head sum over its query heads in increasing order (the first one writes them).
    attentionBackward(q, k, v, probs, capped, dOut, dq, dk, dv, spec) {
      const { B, H, Tq, Tk, D, scale } = spec;
      const { group, qOff, kOff, pOff, ldq, ldk } = attentionLayout(spec);
      const dP = new (probs instanceof Float64Array ? Float64Array : Float32Array)(Tq * Tk),
        dS = new (probs instanceof Float64Array ? Float64Array : Float32Array)(Tq * Tk);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++) {
          const po = pOff(b, h),
            qo = qOff(b, h),
            ko = kOff(b, h),
            acc = h % group === 0 ? 0 : 1;
          backend.gemm(false, true, Tq, Tk, D, 1, dOut, qo, ldq, v, ko, ldk, 0, dP, 0, Tk); // dP = dO V^T
          backend.gemm(true, false, Tk, D, Tq, 1, probs, po, Tk, dOut, qo, ldq, acc, dv, ko, ldk); // dV += P^T dO
          backend.softmaxBackward(probs.subarray(po, po + Tq * Tk), dP, dS, Tq, Tk, false); // masked P = 0 -> dS = 0
          if (capped) for (let i = 0; i < dS.length; i++) dS[i] *= 1 - capped[po + i] * capped[po + i];
          backend.gemm(false, false, Tq, D, Tk, scale, dS, 0, Tk, k, ko, ldk, 0, dq, qo, ldq); // dQ = s dS K
          backend.gemm(true, false, Tk, D, Tq, scale, dS, 0, Tk, q, qo, ldq, acc, dk, ko, ldk); // dK += s dS^T Q
        }
    },

    crossEntropyForward(logits, targets, rowLoss, R, V, ignoreIndex) {
      for (let r = 0; r < R; r++) {
        const t = targets[r];
        if (t === ignoreIndex) {
          rowLoss[r] = 0;
          continue;
        }
        if (t < 0 || t >= V) throw new Error(`cross-entropy target ${t} at row ${r} is outside the vocabulary (${V})`);
        const o = r * V;
        let max = -Infinity;
        for (let c = 0; c < V; c++) if (logits[o + c] > max) max = logits[o + c];
        let sum = 0;
        for (let c = 0; c < V; c++) sum += Math.exp(logits[o + c] - max);
        rowLoss[r] = max + Math.log(sum) - logits[o + t];
      }
    },

    crossEntropyBackward(logits, targets, rowScale, dlogits, R, V, ignoreIndex) {
      for (let r = 0; r < R; r++) {
        const o = r * V;
        const t = targets[r];
        if (t === ignoreIndex || rowScale[r] === 0) {
          for (let c = 0; c < V; c++) dlogits[o + c] = 0;
          continue;
        }
        let max = -Infinity;
        for (let c = 0; c < V; c++) if (logits[o + c] > max) max = logits[o + c];
        let sum = 0;
        for (let c = 0; c < V; c++) sum += Math.exp(logits[o + c] - max);
        const s = rowScale[r];
        for (let c = 0; c < V; c++) dlogits[o + c] = s * (Math.exp(logits[o + c] - max) / sum);
        dlogits[o + t] -= s;
      }
    },

    layerNormForward(x, weight, bias, y, mean, rstd, R, C, eps) {
      for (let r = 0; r < R; r++) {
        const o = r * C;
        let m = 0;
        for (let c = 0; c < C; c++) m += x[o + c];
        m /= C;
        let v = 0;
        for (let c = 0; c < C; c++) {
          const d = x[o + c] - m;
          v += d * d;
        }
        const s = 1 / Math.sqrt(v / C + eps);
        mean[r] = m;
        rstd[r] = s;
        for (let c = 0; c < C; c++) y[o + c] = (x[o + c] - m) * s * weight[c] + (bias ? bias[c] : 0);
      }
    },

    layerNormBackward(x, weight, mean, rstd, dy, dx, dweight, dbias, R, C) {
      for (let r = 0; r < R; r++) {
        const o = r * C;
        const m = mean[r],
          s = rstd[r];
        let sumG = 0,
          sumGX = 0;
        for (let c = 0; c < C; c++) {
          const xhat = (x[o + c] - m) * s;
          const g = dy[o + c] * weight[c];
          sumG += g;
          sumGX += g * xhat;
          if (dweight) dweight[c] += dy[o + c] * xhat;
          if (dbias) dbias[c] += dy[o + c];
        }
        sumG /= C;
        sumGX /= C;
        for (let c = 0; c < C; c++) {
          const xhat = (x[o + c] - m) * s;
          dx[o + c] = s * (dy[o + c] * weight[c] - sumG - xhat * sumGX);
        }
      }
    },

    rmsNormForward(x, weight, y, rstd, R, C, eps, weightOffset) {
      for (let r = 0; r < R; r++) {
        const o = r * C;
        let ss = 0;
        for (let c = 0; c < C; c++) ss += x[o + c] * x[o + c];
        const s = 1 / Math.sqrt(ss / C + eps);
        rstd[r] = s;
        for (let c = 0; c < C; c++) y[o + c] = x[o + c] * s * (weightOffset + weight[c]);
      }
    },

    rmsNormBackward(x, weight, rstd, dy, dx, dweight, R, C, weightOffset) {
      for (let r = 0; r < R; r++) {
        const o = r * C;
        const s = rstd[r];
        let dot = 0;
        for (let c = 0; c < C; c++) {
          const g = dy[o + c] * (weightOffset + weight[c]);
          dot += g * x[o + c];
          if (dweight) dweight[c] += dy[o + c] * x[o + c] * s;
        }
        const k = (dot * s * s * s) / C;
        for (let c = 0; c < C; c++) dx[o + c] = dy[o + c] * (weightOffset + weight[c]) * s - x[o + c] * k;
      }
    },

    rope(x, y, cos, sin, positions, BT, H, D, rotaryDim, interleaved, inverse) {
      const half = rotaryDim / 2;
      const sign = inverse ? -1 : 1;
      for (let bt = 0; bt < BT; bt++) {
        const p = positions[bt] * half;
        for (let h = 0; h < H; h++) {
          const o = (bt * H + h) * D;
          for (let i = 0; i < half; i++) {
            const c = cos[p + i],
              s = sign * sin[p + i];
            const i0 = interleaved ? o + 2 * i : o + i;
            const i1 = interleaved ? o + 2 * i + 1 : o + i + half;
            const a = x[i0],
              b = x[i1];
            y[i0] = a * c - b * s;
            y[i1] = a * s + b * c;
          }
          for (let d = rotaryDim; d < D; d++) y[o + d] = x[o + d];
        }
      }
    },

    accumulate(target, source) {
      for (let i = 0; i < target.length; i++) target[i] += source[i];
    },

    sumRows(x, out, R, C) {
      for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c] += x[r * C + c];
    },

    adamw(param, grad, m, v, s: AdamWStep) {
      const decay = 1 - s.lr * s.weightDecay;
      for (let i = 0; i < param.length; i++) {
        const g = grad[i];
        m[i] = s.beta1 * m[i] + (1 - s.beta1) * g;
        v[i] = s.beta2 * v[i] + (1 - s.beta2) * g * g;
        const mhat = m[i] / s.biasCorrection1;
        const vhat = v[i] / s.biasCorrection2;
        param[i] = param[i] * decay - (s.lr * mhat) / (Math.sqrt(vhat) + s.eps);
      }
    },

    sumSquares(x) {
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[i] * x[i];
      return s;
    },

    dropoutMultiply(x, out, p, keep, seed) {
      const threshold = p * 4294967296;
      for (let i = 0; i < x.length; i++) out[i] = dropoutDraw(seed, i) >= threshold ? x[i] * keep : 0;
    },
  };
  return backend;
}
