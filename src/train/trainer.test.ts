/** The training loop: loss falls, only trainable parameters move, and a resumed run is bit-identical. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packedBatches, supervisedBatches } from '../data/batch.js';
import { LlamaModel } from '../models/llama.js';
import { attachLora } from '../models/lora.js';
import { train } from './trainer.js';

const config = { vocabSize: 32, hiddenSize: 32, intermediateSize: 48, numLayers: 2, numHeads: 4, maxPositions: 64 };
const stream = Int32Array.from({ length: 600 }, (_, i) => (i * 7 + Math.floor(i / 5)) % 32);

test('pretraining on a packed stream lowers the loss; the log shows progress with an ETA', () => {
  const model = new LlamaModel(config, 1);
  const lines: string[] = [];
  const result = train(
    model,
    model.params.list(),
    packedBatches(stream, 4, 16, 0),
    { steps: 40, lr: 3e-3, warmupSteps: 4, logEvery: 20 },
    { log: (l) => lines.push(l) },
  );
  assert.ok(result.losses.at(-1)! < 0.6 * result.losses[0], `${result.losses[0]} -> ${result.losses.at(-1)}`);
  assert.match(lines.at(-1)!, /^step 40\/40 {2}loss \d+\.\d{4} {2}lr .* ETA 0s$/);
});

test('supervised LoRA training moves only the adapters', () => {
  const model = new LlamaModel(config, 2);
  const before = model.params.list().map((p) => Float32Array.from(p.data));
  const lora = attachLora(model, { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, 3);
  const examples = Array.from({ length: 12 }, (_, i) => ({
    ids: [1, 2, 3, 4 + (i % 5), 9],
    labels: [-100, -100, -100, 4 + (i % 5), 9],
  }));
  const result = train(model, [...model.params.list(), ...lora.parameters()], supervisedBatches(examples, 4, 0, 0), {
    steps: 30,
    lr: 1e-2,
  });
  assert.ok(result.losses.at(-1)! < result.losses[0]);
  model.params.list().forEach((p, i) => assert.deepEqual(p.data, before[i], `${p.name} moved`));
});

test('a run interrupted after a checkpoint resumes to bit-identical weights', () => {
  const options = { steps: 12, lr: 3e-3, warmupSteps: 2, checkpointEvery: 5 };
  const straight = new LlamaModel(config, 4);
  train(straight, straight.params.list(), packedBatches(stream, 2, 16, 9), options);

  const dir = join(mkdtempSync(join(tmpdir(), 'pharmacist-ckpt-')), 'ckpt');
  const first = new LlamaModel(config, 4);
  assert.throws(
    () =>
      train(
        first,
        first.params.list(),
        packedBatches(stream, 2, 16, 9),
        { ...options, checkpointDir: dir },
        {
          onStep: ({ step }) => {
            if (step === 7) throw new Error('simulated crash');
          },
        },
      ),
    /simulated crash/,
  );
  const resumed = new LlamaModel(config, 4);
  const result = train(resumed, resumed.params.list(), packedBatches(stream, 2, 16, 9), {
    ...options,
    checkpointDir: dir,
  });
  assert.equal(result.resumedFrom, 5);
  assert.equal(result.losses.length, 12);
  resumed.params.list().forEach((p, i) => assert.deepEqual(p.data, straight.params.list()[i].data, p.name));
});
