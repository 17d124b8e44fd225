// How alike are the subsets of several selections of one pool? For select stages run at ratio 1 (a grid's
// select-* folders: ranking.jsonl holds every pool sample's rank, subset.jsonl the pool in pool order):
//   npm run build && node scripts/selection-overlap.mjs K DIR [DIR ...]
// Prints one JSON line: per selection its method, the refusal share of its top K (cue list), the AUC of its
// scores for "is a cue-list refusal", and for every pair the share of their top K they have in common.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { looksLikeRefusal } from '../dist/src/data/world.js';

const [kText, ...dirs] = process.argv.slice(2);
const k = Number(kText);
if (!(k > 0) || dirs.length === 0) throw new Error('usage: selection-overlap.mjs K DIR [DIR ...]');
const lines = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/** AUC of scores for the positive label: the chance a random positive outscores a random negative (ties 1/2). */
function auc(scores, labels) {
  const pos = scores.filter((_, i) => labels[i]),
    neg = scores.filter((_, i) => !labels[i]);
  let wins = 0;
  for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / Math.max(1, pos.length * neg.length);
}

const selections = dirs.map((dir) => {
  const ranking = lines(join(dir, 'ranking.jsonl'));
  const pool = lines(join(dir, 'subset.jsonl'));
  if (pool.length !== ranking.length) throw new Error(`${dir}: not a ratio-1 select stage (subset != pool)`);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const refusal = pool.map((r) => looksLikeRefusal(r.output ?? r.response ?? ''));
  const top = new Set(ranking.filter((r) => r.rank <= k).map((r) => r.id));
  return {
    dir,
    method: manifest.config.method,
    validation: manifest.data?.world?.validation ?? null,
    refusal_share_top_k: [...top].filter((i) => refusal[i]).length / k,
    refusal_share_pool: refusal.filter(Boolean).length / pool.length,
    refusal_auc: auc(
      ranking.map((r) => r.score),
      refusal,
    ),
    top,
  };
});
const pairs = [];
for (let i = 0; i < selections.length; i++)
  for (let j = i + 1; j < selections.length; j++) {
    const a = selections[i],
      b = selections[j];
    pairs.push({ a: a.method, b: b.method, shared_top_k: [...a.top].filter((x) => b.top.has(x)).length / k });
  }
console.log(JSON.stringify({ k, selections: selections.map(({ top, ...s }) => s), pairs }));
