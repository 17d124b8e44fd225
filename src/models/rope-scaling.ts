/**
 * Rotary inverse frequencies with the scaling schemes of Hugging Face configs (`rope_scaling`):
 * none, "linear" (position interpolation: every frequency divided by the factor) and "llama3"
 * (Llama 3.1: long wavelengths divided by the factor, short ones kept, a smooth ramp between).
 * Schemes that depend on the sequence length at run time (dynamic NTK, YaRN) are refused by the loader.
 */
import { ropeInverseFrequencies } from '../engine/index.js';

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export function scaledInverseFrequencies(rotaryDim: number, theta: number, scaling?: RopeScaling): Float64Array {
  const invFreq = ropeInverseFrequencies(rotaryDim, theta);
  if (!scaling) return invFreq;
  if (scaling.type === 'linear') return invFreq.map((f) => f / scaling.factor);
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions } = scaling;
  const lowFreqWavelen = originalMaxPositions / lowFreqFactor;
  const highFreqWavelen = originalMaxPositions / highFreqFactor;
  return invFreq.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) return f;
    if (wavelen > lowFreqWavelen) return f / factor;
    const smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}
