// Per-step training losses of a LoRA alignment on the embedded model (after `npm run build`): the plain SFT
// alignment (rank 8, alpha 16, dropout 0.05 on all seven projections, batch 16, lr 2e-3, seed 0) on the first
// 400 samples of the world's alignment pool, for --steps steps (50). Prints one JSON line: {"losses": [...]}.
// Used to check that a kernel change leaves training where it was: run it before and after, compare per step.
import { parseArgs } from 'node:util';
import { buildWorld } from '../dist/src/data/world.js';
import { asInstruction } from '../dist/src/data/datasets.js';
import { loadModelBundle } from '../dist/src/models/bundle.js';
import { embeddedModelDir } from '../dist/src/io/package-paths.js';
import { sftLora } from '../dist/src/train/sft.js';
import { setThreads } from '../dist/src/engine/index.js';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '50' },
    threads: { type: 'string' },
    samples: { type: 'string', default: '400' },
  },
});
if (args.threads) setThreads(Number(args.threads));
const world = buildWorld();
const records = world.pool.slice(0, Number(args.samples)).map(asInstruction);
const bundle = loadModelBundle(embeddedModelDir());
const eos = bundle.eosTokenIds[0];
const result = sftLora(bundle.model, bundle.tokenizer, records, eos, bundle.padTokenId ?? eos, {
  steps: Number(args.steps),
  seed: 0,
});
console.log(JSON.stringify({ losses: result.losses, seconds: result.seconds }));
