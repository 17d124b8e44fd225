/** A tiny Llama model folder (random weights, a BPE trained on the pretraining corpus) for end-to-end tests. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pretrainingCorpus } from '../src/data/pretraining.js';
import { LlamaModel } from '../src/models/llama.js';
import { savePretrained } from '../src/models/pretrained.js';
import { trainByteLevelBpe } from '../src/tokenizers/index.js';

export function writeTinyModel(dir: string, { vocabSize = 400, texts = 300 } = {}): string {
  const corpus = pretrainingCorpus(0)
    .slice(0, texts)
    .map((c) => c.prompt + c.answer);
  const tokenizer = trainByteLevelBpe(corpus, { vocabSize, specialTokens: ['<pad>', '<s>', '</s>'], bosToken: '<s>' });
  savePretrained(
    dir,
    new LlamaModel(
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
