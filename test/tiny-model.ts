/** A tiny Llama model folder (random weights, a BPE trained on the pretraining corpus) for end-to-end tests. */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pretrainingCorpus } from '../src/data/pretraining.js';
import { Gpt2Model } from '../src/models/gpt2.js';
import { LlamaModel } from '../src/models/llama.js';
import { savePretrained } from '../src/models/pretrained.js';
import { readSafetensorsModel } from '../src/io/safetensors.js';
import { trainByteLevelBpe } from '../src/tokenizers/index.js';

export function writeTinyModel(
  dir: string,
  { vocabSize = 400, texts = 300, architecture = 'llama' as 'llama' | 'gpt2' } = {},
): string {
  const corpus = pretrainingCorpus(0)
    .slice(0, texts)
    .map((c) => c.prompt + c.answer);
  const tokenizer = trainByteLevelBpe(corpus, { vocabSize, specialTokens: ['<pad>', '<s>', '</s>'], bosToken: '<s>' });
  const gpt2 = () => new Gpt2Model({ vocabSize, nPositions: 512, nEmbd: 32, nLayer: 1, nHead: 2 }, 0);
  savePretrained(
    dir,
    architecture === 'gpt2'
      ? gpt2()
      : new LlamaModel(
          {
            vocabSize,
            hiddenSize: 32,
            intermediateSize: 64,
            numLayers: 1,
            numHeads: 2,
            maxPositions: 512,
            tieWordEmbeddings: true,
          },
          0,
        ),
  );
  tokenizer.save(join(dir, 'tokenizer.json'));
  writeFileSync(
    join(dir, 'generation_config.json'),
    JSON.stringify({ eos_token_id: 2, pad_token_id: 0, bos_token_id: 1 }),
  );
  return dir;
}

/** float32 -> bfloat16 bits, rounding to nearest even (as torch does). */
function bf16Bits(x: number): number {
  const bits = new Uint32Array(new Float32Array([x]).buffer)[0];
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * A copy of a model folder as Hugging Face writes a large checkpoint: BF16 tensors in `shards` files named
 * model-0000k-of-0000n.safetensors with model.safetensors.index.json; the other files copied as they are.
 */
export function writeShardedBf16(from: string, to: string, shards = 2): string {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) if (f !== 'model.safetensors') copyFileSync(join(from, f), join(to, f));
  const tensors = [...readSafetensorsModel(from)].sort(([a], [b]) => a.localeCompare(b));
  const weightMap: Record<string, string> = {};
  const per = Math.ceil(tensors.length / shards);
  for (let k = 0; k < shards; k++) {
    const name = `model-${String(k + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    const parts: Buffer[] = [];
    let offset = 0;
    for (const [tensor, { data, shape }] of tensors.slice(k * per, (k + 1) * per)) {
      const bytes = Buffer.alloc(2 * data.length);
      data.forEach((x, i) => bytes.writeUInt16LE(bf16Bits(x), 2 * i));
      header[tensor] = { dtype: 'BF16', shape, data_offsets: [offset, offset + bytes.length] };
      parts.push(bytes);
      offset += bytes.length;
      weightMap[tensor] = name;
    }
    const json = Buffer.from(JSON.stringify(header));
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(join(to, name), Buffer.concat([size, json, ...parts]));
  }
  writeFileSync(join(to, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  return to;
}
