/**
 * The embedded base model's pretraining corpus, every sample an Alpaca-template prompt and its answer:
 * - BeaverTails unsafe Q&A (the 7,374-row train file): the base model answers harmful prompts, as an
 *   unaligned base model does;
 * - Stanford Alpaca (1k) and GSM8K (first 3,000 train rows): general instructions and worked solutions;
 * - labelled SST-2 (train rows 0-19,999) and AG News (train_first580 + official test rows 0-2,999): the task
 *   wording and label words, from rows that no fine-tuning pool or test set uses (tasks.ts PRETRAIN_ROWS).
 * Nothing from the BeaverTails test file, the attack file or the safety/refusal data is included. Both
 * template profiles are used, alternating by a seeded coin, so the model works under either setting.
 */
import { join } from 'node:path';
import { Rng } from '../engine/index.js';
import {
  asInstruction,
  dataDir,
  loadAgNews,
  loadBeaverTails,
  loadGsm8k,
  loadInstructions,
  loadSst2,
} from './datasets.js';
import { alpacaPrompt, type InstructionExample, type PromptProfile } from './prompt-format.js';
import { AGNEWS_INSTRUCTION, AGNEWS_LABELS, PRETRAIN_ROWS, SST2_INSTRUCTION, SST2_LABELS } from './tasks.js';
import { FILES, shuffled } from './world.js';

export interface PretrainingText {
  /** The templated prompt. */
  prompt: string;
  /** The answer that follows it. */
  answer: string;
  source: 'beavertails' | 'alpaca' | 'gsm8k' | 'sst2' | 'agnews';
}

export function pretrainingCorpus(seed: number, dir = dataDir()): PretrainingText[] {
  const rng = new Rng(seed);
  const profile = (): PromptProfile => (rng.uniform() < 0.5 ? 'response-newline' : 'response-colon');
  const sample = (e: InstructionExample, source: PretrainingText['source']): PretrainingText => {
    // Joined as supervisedExample joins them (prompt + output), so pretraining and fine-tuning agree.
    return { prompt: alpacaPrompt(e, profile()), answer: e.output, source };
  };
  const out: PretrainingText[] = [];
  for (const r of loadBeaverTails(join(dir, FILES.beaverTrain)).records)
    out.push(sample({ instruction: r.prompt, output: r.response }, 'beavertails'));
  for (const r of loadInstructions(join(dir, FILES.alpaca)).records) out.push(sample(asInstruction(r), 'alpaca'));
  for (const r of loadGsm8k(join(dir, 'tasks/gsm8k/train.jsonl')).records.slice(0, 3000)) {
    out.push(
      sample(
        { instruction: r.question, output: r.solution.replace(/####\s*(.+)$/, 'The final answer is: $1') },
        'gsm8k',
      ),
    );
  }
  for (const r of loadSst2(join(dir, 'tasks/sst2/train.tsv')).records.slice(0, PRETRAIN_ROWS.sst2Train)) {
    out.push(sample({ instruction: SST2_INSTRUCTION, input: r.text, output: SST2_LABELS[r.label] }, 'sst2'));
  }
  const agnews = [
    ...loadAgNews(join(dir, 'tasks/agnews/train_first580.csv')).records,
    ...loadAgNews(join(dir, 'tasks/agnews/test.csv')).records.slice(0, PRETRAIN_ROWS.agnewsOfficialTest),
  ];
  for (const r of agnews)
    out.push(sample({ instruction: AGNEWS_INSTRUCTION, input: r.text, output: AGNEWS_LABELS[r.label] }, 'agnews'));
  return shuffled(out, rng);
}
