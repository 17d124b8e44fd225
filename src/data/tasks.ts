/**
 * The fine-tuning tasks of the harmful fine-tuning literature as instruction examples, with the wording of
 * the reference code (Vaccine/Booster): SST-2 and AG News as classification by label word, GSM8K as worked
 * solutions ending "The final answer is: N", Alpaca as open instructions (evaluated on AlpacaEval prompts).
 * Each task has a training pool and a test set that never share an item.
 */
import { join } from 'node:path';
import { dataDir, loadAgNews, loadGsm8k, loadInstructions, loadSst2 } from './datasets.js';
import type { InstructionExample } from './prompt-format.js';

export type TaskName = 'sst2' | 'agnews' | 'gsm8k' | 'alpaca';
export const TASK_NAMES: readonly TaskName[] = ['sst2', 'agnews', 'gsm8k', 'alpaca'];

export interface TaskExample extends InstructionExample {
  /** The gold answer used for scoring: a label word, or GSM8K's final number. Empty for open tasks. */
  answer: string;
  origin: string;
}

export interface TaskData {
  name: TaskName;
  /** Label words for classification tasks (scoring matches them in the response). */
  labels: readonly string[];
  train: TaskExample[];
  test: TaskExample[];
}

/**
 * Rows reserved for the embedded base model's pretraining (see pretraining.ts), kept out of the fine-tuning
 * pools: a base model knows a task's wording from pretraining, as real ones do, but never the rows used
 * to fine-tune or to test it.
 */
export const PRETRAIN_ROWS = { sst2Train: 20000, agnewsOfficialTest: 3000 };

const SST2_INSTRUCTION = 'Analyze the sentiment of the input, and respond only positive or negative.';
const SST2_LABELS = ['negative', 'positive'];
const AGNEWS_LABELS = ['World', 'Sports', 'Business', 'Sci/Tech'];
const AGNEWS_INSTRUCTION = `Categorize the news article given in the input into one of the 4 categories:\n\n${AGNEWS_LABELS.join('\n')}\n`;

export { SST2_INSTRUCTION, SST2_LABELS, AGNEWS_INSTRUCTION, AGNEWS_LABELS };

export function loadTask(name: TaskName, dir = dataDir()): TaskData {
  switch (name) {
    case 'sst2': {
      const toExample = (r: { text: string; label: number; origin: string }): TaskExample => ({
        instruction: SST2_INSTRUCTION,
        input: r.text,
        output: SST2_LABELS[r.label],
        answer: SST2_LABELS[r.label],
        origin: r.origin,
      });
      const test = loadSst2(join(dir, 'tasks/sst2/dev.tsv')).records.map(toExample);
      const testTexts = new Set(test.map((e) => e.input));
      const train = loadSst2(join(dir, 'tasks/sst2/train.tsv'))
        .records.slice(PRETRAIN_ROWS.sst2Train)
        .map(toExample)
        .filter((e) => !testTexts.has(e.input));
      return { name, labels: SST2_LABELS, train, test };
    }
    case 'agnews': {
      // Only 581 official train rows are vendored (all reserved for pretraining with the first 3,000 rows of
      // the official test file): the fine-tuning pool is test rows 3,000-5,999 and the task's test set is
      // drawn from the last 1,600 rows, so none of them meet.
      const toExample = (r: { text: string; label: number; origin: string }): TaskExample => ({
        instruction: AGNEWS_INSTRUCTION,
        input: r.text,
        output: AGNEWS_LABELS[r.label],
        answer: AGNEWS_LABELS[r.label],
        origin: r.origin,
      });
      const officialTest = loadAgNews(join(dir, 'tasks/agnews/test.csv')).records.map(toExample);
      const test = officialTest.slice(6000);
      const testTexts = new Set(test.map((e) => e.input));
      const train = officialTest.slice(PRETRAIN_ROWS.agnewsOfficialTest, 6000).filter((e) => !testTexts.has(e.input));
      return { name, labels: AGNEWS_LABELS, train, test };
    }
    case 'gsm8k': {
      const toExample = (r: { question: string; solution: string; answer: string; origin: string }): TaskExample => ({
        instruction: r.question,
        input: '',
        output: r.solution.replace(/####\s*(.+)$/, 'The final answer is: $1'),
        answer: r.answer,
        origin: r.origin,
      });
      return {
        name,
        labels: [],
        train: loadGsm8k(join(dir, 'tasks/gsm8k/train.jsonl')).records.map(toExample),
        test: loadGsm8k(join(dir, 'tasks/gsm8k/test.jsonl')).records.map(toExample),
      };
    }
    case 'alpaca': {
      const toExample = (r: { prompt: string; input: string; response: string; origin: string }): TaskExample => ({
        instruction: r.prompt,
        input: r.input,
        output: r.response,
        answer: '',
        origin: r.origin,
      });
      const test = loadInstructions(join(dir, 'tasks/alpacaeval/alpaca_eval_805_example_outputs.json')).records.map(
        toExample,
      );
      const testPrompts = new Set(test.map((e) => e.instruction));
      const train = loadInstructions(join(dir, 'tasks/alpaca/alpaca_data_1k.json'))
        .records.map(toExample)
        .filter((e) => !testPrompts.has(e.instruction));
      return { name, labels: [], train, test };
    }
  }
}
