/** LoRA: only adapters train, merging preserves the function, the PEFT layout round-trips, both flows. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW, backward, crossEntropy, noGrad } from '../engine/index.js';
import { openSafetensors } from '../io/safetensors.js';
import { Gpt2Model } from './gpt2.js';
import { LlamaModel } from './llama.js';
import { attachLora, mergeLora } from './lora.js';
import { loadLoraAdapter, saveLoraAdapter } from './peft.js';

const config = {
  vocabSize: 16,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  maxPositions: 16,
};
const ids = Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
const targets = Int32Array.from([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
const logitsOf = (m: LlamaModel | Gpt2Model) => noGrad(() => Float32Array.from(m.forward(ids, 2, 6).data));
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** A few AdamW steps on the adapters so that B is no longer zero. */
function trainAdapters(model: LlamaModel | Gpt2Model, steps = 5): void {
  const opt = new AdamW(model.lora!.parameters(), { weightDecay: 0 });
  for (let s = 0; s < steps; s++) {
    for (const p of model.lora!.parameters()) p.grad = null;
    backward(crossEntropy(model.forward(ids, 2, 6), targets));
    opt.step(1e-2);
  }
}

test('only adapter weights receive gradients; a fresh adapter leaves the logits unchanged', () => {
  const model = new LlamaModel(config, 1);
  const before = logitsOf(model);
  const lora = attachLora(model, { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj', 'down_proj'] }, 2);
  assert.equal(lora.adapters.size, 6);
  assert.equal(maxDiff(before, logitsOf(model)), 0);
  backward(crossEntropy(model.forward(ids, 2, 6), targets));
  for (const p of model.params.list()) assert.equal(p.grad, null, `${p.name} got a gradient`);
  for (const p of lora.parameters()) assert.ok(p.grad, `${p.name} has no gradient`);
  // B starts at zero, so A's first gradient is zero and B's is not.
  assert.ok(lora.adapters.get('model.layers.0.self_attn.q_proj')!.b.grad!.some((g) => g !== 0));
});

test('merged and unmerged forward agree (Llama and GPT-2)', () => {
  for (const model of [
    new LlamaModel(config, 3),
    new Gpt2Model({ vocabSize: 16, nPositions: 8, nEmbd: 16, nLayer: 2, nHead: 2 }, 3),
  ]) {
    attachLora(
      model,
      {
        r: 4,
        alpha: 16,
        dropout: 0.1,
        targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'c_attn', 'c_fc'],
      },
      4,
    );
    trainAdapters(model);
    model.lora!.training = false;
    const unmerged = logitsOf(model);
    const lora = model.lora;
    model.lora = null;
    const base = logitsOf(model);
    model.lora = lora;
    assert.ok(maxDiff(unmerged, base) > 1e-3, 'training changed the adapters');
    mergeLora(model);
    assert.equal(model.lora, null);
    assert.ok(maxDiff(unmerged, logitsOf(model)) < 1e-5, `merged differs by ${maxDiff(unmerged, logitsOf(model))}`);
  }
});

test('a PEFT-layout adapter round-trips: names, config and logits', () => {
  const model = new LlamaModel(config, 5);
  const lora = attachLora(model, { r: 2, alpha: 4, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, 6);
  trainAdapters(model, 3);
  lora.training = false;
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-peft-'));
  saveLoraAdapter(dir, lora, { baseModel: 'tiny-llama' });
  const saved = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
  assert.equal(saved.peft_type, 'LORA');
  assert.equal(saved.r, 2);
  assert.equal(saved.lora_alpha, 4);
  assert.deepEqual(saved.target_modules, ['q_proj', 'v_proj']);
  const file = openSafetensors(join(dir, 'adapter_model.safetensors'));
  assert.deepEqual(file.shape('base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight'), [2, 16]);
  assert.deepEqual(file.shape('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight'), [8, 2]);
  assert.equal(file.names.length, 8);
  file.close();

  const fresh = new LlamaModel(config, 5);
  const loaded = loadLoraAdapter(dir, fresh);
  loaded.training = false;
  assert.equal(maxDiff(logitsOf(model), logitsOf(fresh)), 0);
  assert.ok(fresh.params.list().every((p) => !p.requiresGrad));

  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...saved, use_dora: true }));
  assert.throws(
    () => loadLoraAdapter(dir, new LlamaModel(config, 5)),
    /adapter_config\.json: field "use_dora" = true is not supported/,
  );
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...saved, r: 3 }));
  assert.throws(
    () => loadLoraAdapter(dir, new LlamaModel(config, 5)),
    /lora_A\.weight" has shape \[2, 16\], the model expects \[3, 16\]/,
  );
});

test('double LoRA: merging the alignment adapter and adding a fresh one keeps the aligned function', () => {
  const model = new LlamaModel(config, 7);
  attachLora(model, { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, 8);
  trainAdapters(model);
  model.lora!.training = false;
  const aligned = logitsOf(model);
  mergeLora(model);
  const second = attachLora(model, { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, 9);
  assert.ok(maxDiff(aligned, logitsOf(model)) < 1e-5);
  trainAdapters(model, 2);
  assert.ok(second.parameters().every((p) => p.grad !== null));
  assert.ok(model.params.list().every((p) => !p.requiresGrad));
});

test('single LoRA: the alignment adapter keeps training', () => {
  const model = new LlamaModel(config, 10);
  const lora = attachLora(model, { r: 4, alpha: 8, dropout: 0, targetModules: ['v_proj'] }, 11);
  trainAdapters(model, 2);
  const afterAlignment = Float32Array.from(lora.adapters.get('model.layers.0.self_attn.v_proj')!.b.data);
  trainAdapters(model, 2);
  assert.ok(maxDiff(afterAlignment, lora.adapters.get('model.layers.0.self_attn.v_proj')!.b.data as Float32Array) > 0);
});

test('layersToTransform limits adapters to chosen layers and round-trips through the PEFT config', () => {
  const model = new LlamaModel(config, 12);
  const lora = attachLora(
    model,
    { r: 2, alpha: 4, dropout: 0, targetModules: ['q_proj', 'v_proj'], layersToTransform: [1] },
    13,
  );
  assert.deepEqual([...lora.adapters.keys()], ['model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.v_proj']);
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-peft-'));
  saveLoraAdapter(dir, lora);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')).layers_to_transform, [1]);
  assert.deepEqual([...loadLoraAdapter(dir, new LlamaModel(config, 12)).adapters.keys()], [...lora.adapters.keys()]);
});

test('targets that match nothing are an error', () => {
  assert.throws(
    () => attachLora(new LlamaModel(config, 1), { targetModules: ['c_attn'] }),
    /no module matches target_modules \[c_attn\]/,
  );
});
