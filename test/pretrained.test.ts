/** Hugging Face folders (config.json + safetensors) load into the same models, with clear errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad } from '../src/engine/index.js';
import { writeSafetensors, type NamedArray } from '../src/io/safetensors.js';
import { loadPretrained, modelFromHfConfig, type PretrainedModel } from '../src/models/pretrained.js';

const ids = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6]);

function saveAsHf(model: PretrainedModel, config: object, conv1d: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-hf-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const tensors = new Map<string, NamedArray>();
  for (const [name, p] of model.params.byName) {
    let data = Float32Array.from(p.data),
      shape = [...p.shape];
    if (conv1d && /\.(c_attn|c_proj|c_fc)\.weight$/.test(name)) {
      const [r, c] = shape;
      data = new Float32Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = p.data[i * c + j];
      shape = [c, r];
    }
    tensors.set(name, { data, shape });
  }
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  return dir;
}

const logits = (m: PretrainedModel) => noGrad(() => Array.from(m.forward(ids, 2, 4).data));

const configs = {
  llama: {
    model_type: 'llama',
    vocab_size: 10,
    hidden_size: 8,
    intermediate_size: 12,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    max_position_embeddings: 16,
    rms_norm_eps: 1e-5,
  },
  gpt2: { model_type: 'gpt2', vocab_size: 10, n_positions: 8, n_embd: 8, n_layer: 2, n_head: 2 },
};

for (const [type, config] of Object.entries(configs)) {
  test(`${type}: a saved HF folder loads back to identical logits`, () => {
    const original = modelFromHfConfig(config, 'config.json', 11);
    const loaded = loadPretrained(saveAsHf(original, config, type === 'gpt2'));
    assert.deepEqual(logits(loaded), logits(original));
  });
}

test('config and checkpoint problems name the file and the field or tensor', () => {
  const { vocab_size: _, ...noVocab } = configs.llama;
  assert.throws(
    () => modelFromHfConfig(noVocab, 'x/config.json'),
    /x\/config\.json: required field "vocab_size" is missing/,
  );
  assert.throws(
    () => modelFromHfConfig({ ...configs.llama, rope_scaling: { rope_type: 'yarn', factor: 4 } }, 'c.json'),
    /c\.json: field "rope_scaling" = .*yarn.* is not supported/,
  );
  assert.throws(
    () => modelFromHfConfig({ ...configs.llama, rope_scaling: { rope_type: 'llama3', factor: 4 } }, 'c.json'),
    /c\.json \(rope_scaling\): required field "low_freq_factor" is missing/,
  );
  assert.throws(
    () => modelFromHfConfig({ ...configs.llama, model_type: 'qwen2', use_sliding_window: true }, 'c.json'),
    /field "use_sliding_window" = true is not supported/,
  );
  assert.throws(() => modelFromHfConfig({ model_type: 'bert' }, 'c.json'), /unknown model_type "bert"/);
  assert.throws(
    () => modelFromHfConfig({ ...configs.llama, hidden_size: '8' }, 'c.json'),
    /field "hidden_size" should be a number/,
  );
  const model = modelFromHfConfig(configs.llama, 'config.json', 1);
  const dir = saveAsHf(model, { ...configs.llama, intermediate_size: 14 }, false);
  assert.throws(
    () => loadPretrained(dir),
    /tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[12, 8\], the model expects \[14, 8\]/,
  );
});
