/**
 * llama2.c checkpoints (`.bin`): a header of 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size — negative when the classifier is not shared — and seq_len), then float32 weights in a fixed
 * order. Linear weights are stored [out, in], as nn.Linear; RoPE rotates interleaved pairs.
 * Also reads the matching tokenizer (`tok512.bin`, `tokenizer.bin`) for decoding.
 */
import { readFileSync } from 'node:fs';
import { LlamaModel, type LlamaConfig } from './llama.js';

export function loadLlama2c(path: string): LlamaModel {
  const buf = readFileSync(path);
  if (buf.length < 28) throw new Error(`${path}: too short for a llama2.c header (${buf.length} bytes)`);
  const header = Array.from({ length: 7 }, (_, i) => buf.readInt32LE(4 * i));
  const [dim, hidden, nLayers, nHeads, nKvHeads, signedVocab, seqLen] = header;
  const names = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'seq_len'];
  header.forEach((v, i) => {
    if (i !== 5 && !(v > 0)) throw new Error(`${path}: header field ${names[i]} = ${v} must be positive`);
  });
  if (dim % nHeads !== 0 || nHeads % nKvHeads !== 0)
    throw new Error(`${path}: dim ${dim}, n_heads ${nHeads}, n_kv_heads ${nKvHeads} are inconsistent`);
  const vocab = Math.abs(signedVocab);
  const headSize = dim / nHeads,
    kvDim = nKvHeads * headSize;
  const config: LlamaConfig = {
    vocabSize: vocab,
    hiddenSize: dim,
    intermediateSize: hidden,
    numLayers: nLayers,
    numHeads: nHeads,
    numKvHeads: nKvHeads,
    maxPositions: seqLen,
    rmsNormEps: 1e-5,
    tieWordEmbeddings: signedVocab > 0,
    ropeInterleaved: true,
  };
  const floats = new Float32Array(buf.buffer.slice(buf.byteOffset + 28, buf.byteOffset + buf.length));
  let at = 0;
  const take = (count: number, what: string): Float32Array => {
    if (at + count > floats.length)
      throw new Error(
        `${path}: file ends inside ${what} (needs ${count} floats at offset ${at}, has ${floats.length - at})`,
      );
    const out = floats.subarray(at, at + count);
    at += count;
    return out;
  };
  const model = new LlamaModel(config, null); // every weight is set from the file below
  const set = (name: string, values: Float32Array) => model.params.get(name).data.set(values);
  const perLayer = (suffix: string, size: number, what: string) => {
    const all = take(nLayers * size, what);
    for (let l = 0; l < nLayers; l++) set(`model.layers.${l}.${suffix}`, all.subarray(l * size, (l + 1) * size));
  };
  set('model.embed_tokens.weight', take(vocab * dim, 'token_embedding_table'));
  perLayer('input_layernorm.weight', dim, 'rms_att_weight');
  perLayer('self_attn.q_proj.weight', dim * dim, 'wq');
  perLayer('self_attn.k_proj.weight', kvDim * dim, 'wk');
  perLayer('self_attn.v_proj.weight', kvDim * dim, 'wv');
  perLayer('self_attn.o_proj.weight', dim * dim, 'wo');
  perLayer('post_attention_layernorm.weight', dim, 'rms_ffn_weight');
  perLayer('mlp.gate_proj.weight', hidden * dim, 'w1');
  perLayer('mlp.down_proj.weight', dim * hidden, 'w2');
  perLayer('mlp.up_proj.weight', hidden * dim, 'w3');
  set('model.norm.weight', take(dim, 'rms_final_weight'));
  take(seqLen * headSize, 'freq_cis'); // precomputed RoPE tables (real, imaginary); we compute our own
  if (signedVocab < 0) set('lm_head.weight', take(vocab * dim, 'wcls'));
  return model;
}
