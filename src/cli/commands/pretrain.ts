import type { Command } from 'commander';
import { PRETRAIN_DEFAULTS, runPretrain, type PretrainConfig } from '../../pipeline/pretrain.js';
import { nonNegativeInt, positiveInt, positiveNumber } from '../parse.js';

export function registerPretrain(program: Command): void {
  const d = PRETRAIN_DEFAULTS;
  program
    .command('pretrain')
    .description(
      'train the embedded base model (BPE tokenizer + small Llama) on the vendored corpora; resumes from its checkpoint',
    )
    .option('--seed <n>', 'seed of corpus order, init and batches', nonNegativeInt, d.seed)
    .option('--out <dir>', 'model output folder (Hugging Face layout)', d.outDir)
    .option('--run-dir <dir>', 'checkpoints and run record', d.runDir)
    .option('--vocab-size <n>', 'BPE vocabulary size', positiveInt, d.vocabSize)
    .option('--hidden-size <n>', 'model width', positiveInt, d.hiddenSize)
    .option('--layers <n>', 'decoder layers', positiveInt, d.numLayers)
    .option('--heads <n>', 'attention heads', positiveInt, d.numHeads)
    .option('--kv-heads <n>', 'key/value heads', positiveInt, d.numKvHeads)
    .option('--intermediate-size <n>', 'SwiGLU width', positiveInt, d.intermediateSize)
    .option('--seq-len <n>', 'training window', positiveInt, d.seqLen)
    .option('--batch-size <n>', 'windows per step', positiveInt, d.batchSize)
    .option('--steps <n>', 'optimizer steps', positiveInt, d.steps)
    .option('--lr <x>', 'peak learning rate', positiveNumber, d.lr)
    .option('--warmup-steps <n>', 'linear warmup', nonNegativeInt, d.warmupSteps)
    .action((o: Record<string, unknown>) => {
      const config: PretrainConfig = {
        ...d,
        seed: o.seed as number,
        outDir: o.out as string,
        runDir: o.runDir as string,
        vocabSize: o.vocabSize as number,
        hiddenSize: o.hiddenSize as number,
        numLayers: o.layers as number,
        numHeads: o.heads as number,
        numKvHeads: o.kvHeads as number,
        intermediateSize: o.intermediateSize as number,
        seqLen: o.seqLen as number,
        batchSize: o.batchSize as number,
        steps: o.steps as number,
        lr: o.lr as number,
        warmupSteps: o.warmupSteps as number,
      };
      runPretrain(config);
    });
}
