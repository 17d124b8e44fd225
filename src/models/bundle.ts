/**
 * A model with its tokenizer and stop tokens, from what users point at:
 * - a Hugging Face folder: config.json, safetensors, and tokenizer.json (or GPT-2's vocab.json + merges.txt);
 *   EOS ids from generation_config.json or config.json;
 * - a llama2.c checkpoint: a .bin file (or a folder holding exactly one model .bin) plus its tokenizer .bin
 *   (tokenizer.bin, tok<N>.bin) beside it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadLlama2c } from './llama2c.js';
import { loadPretrained, type PretrainedModel } from './pretrained.js';
import { Tokenizer, tokenizerFromGpt2Files, tokenizerFromLlama2c } from '../tokenizers/index.js';

export interface ModelBundle {
  model: PretrainedModel;
  tokenizer: Tokenizer;
  eosTokenIds: number[];
  /** Padding for training batches: the tokenizer's <pad>, else the first EOS. */
  padTokenId: number | undefined;
  /** Where it came from, for run records. */
  source: { path: string; format: 'huggingface' | 'llama2c' };
}

const isTokenizerBin = (name: string) => /^(tokenizer|tok\d+)\.bin$/.test(name);

export function loadModelBundle(path: string): ModelBundle {
  if (!existsSync(path)) throw new Error(`${path}: not found`);
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, 'config.json'))) return loadHuggingFace(path);
    const bins = readdirSync(path).filter((f) => f.endsWith('.bin') && !isTokenizerBin(f));
    if (bins.length === 1) return loadLlama2cBundle(join(path, bins[0]));
    throw new Error(
      `${path}: neither a Hugging Face folder (config.json) nor a folder with one llama2.c model .bin (found ${bins.length})`,
    );
  }
  if (path.endsWith('.bin')) return loadLlama2cBundle(path);
  throw new Error(`${path}: expected a model folder or a llama2.c .bin checkpoint`);
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

function eosIds(dir: string): number[] {
  for (const file of ['generation_config.json', 'config.json']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const v = readJson(path).eos_token_id;
    if (typeof v === 'number') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  }
  return [];
}

function bundle(
  model: PretrainedModel,
  tokenizer: Tokenizer,
  eosTokenIds: number[],
  source: ModelBundle['source'],
): ModelBundle {
  return { model, tokenizer, eosTokenIds, padTokenId: tokenizer.tokenToId('<pad>') ?? eosTokenIds[0], source };
}

function loadHuggingFace(dir: string): ModelBundle {
  const model = loadPretrained(dir);
  let tokenizer: Tokenizer;
  if (existsSync(join(dir, 'tokenizer.json'))) tokenizer = Tokenizer.fromFile(join(dir, 'tokenizer.json'));
  else if (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt')))
    tokenizer = tokenizerFromGpt2Files(join(dir, 'vocab.json'), join(dir, 'merges.txt'));
  else throw new Error(`${dir}: no tokenizer.json (or vocab.json + merges.txt)`);
  return bundle(model, tokenizer, eosIds(dir), { path: dir, format: 'huggingface' });
}

function loadLlama2cBundle(file: string): ModelBundle {
  const model = loadLlama2c(file);
  const dir = dirname(file);
  const candidates = readdirSync(dir).filter(isTokenizerBin);
  const vocab = model.config.vocabSize;
  const tokenizerFile =
    candidates.find((f) => f === `tok${vocab}.bin`) ?? candidates.find((f) => f === 'tokenizer.bin');
  if (!tokenizerFile)
    throw new Error(`${file}: no llama2.c tokenizer beside it (tok${vocab}.bin or tokenizer.bin in ${dir})`);
  const tokenizer = tokenizerFromLlama2c(join(dir, tokenizerFile), vocab);
  return bundle(model, tokenizer, [2], { path: `${file} + ${basename(tokenizerFile)}`, format: 'llama2c' });
}
