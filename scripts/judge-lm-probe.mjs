// Experiment: does the embedded base model's representation separate harmful from safe replies better than the
// builtin judge's n-grams? Features = the residual stream of chosen layers, mean-pooled over the response tokens
// and taken at the last token; a logistic regression on them is trained on the judge's training groups and scored
// on their held-out part (gold dev held-out pairs included), as judge-sweep.mjs scores n-gram designs. The gold
// test split and the hard pairs are not read.
//   npm run build && node scripts/judge-lm-probe.mjs [--train N] [--layers 3,5] [--max-tokens 128]
import { parseArgs } from 'node:util';
import { buildJudgeDataset } from '../dist/src/eval/judge-data.js';
import { classFigures } from '../dist/src/eval/judge-accuracy.js';
import { loadPretrained } from '../dist/src/models/pretrained.js';
import { Tokenizer } from '../dist/src/tokenizers/index.js';
import { ActivationTaps, noGrad, Rng } from '../dist/src/engine/index.js';

const { values } = parseArgs({
  options: {
    train: { type: 'string', default: '4000' },
    layers: { type: 'string', default: '2,5' },
    'max-tokens': { type: 'string', default: '128' },
    epochs: { type: 'string', default: '200' },
    l2: { type: 'string', default: '1e-3' },
  },
});
const maxTokens = +values['max-tokens'];
const layers = values.layers.split(',').map(Number);
const model = loadPretrained('assets/base');
const tokenizer = Tokenizer.fromFile('assets/base/tokenizer.json');
const C = model.config.hiddenSize;

function tokens(e) {
  const head = tokenizer.encode(`### Instruction:\n${e.prompt}\n\n### Response:\n`);
  const reply = tokenizer.encode(e.response, { addSpecialTokens: false });
  const promptPart = head.slice(0, Math.max(8, maxTokens - reply.length));
  const ids = [...promptPart, ...reply].slice(0, maxTokens);
  return { ids, start: Math.min(promptPart.length, ids.length - 1) };
}

function features(examples) {
  const dim = layers.length * 2 * C;
  const out = new Float32Array(examples.length * dim);
  const enc = examples.map(tokens);
  const order = enc.map((_, i) => i).sort((a, b) => enc[a].ids.length - enc[b].ids.length);
  const taps = new ActivationTaps().capture((n) => layers.some((l) => n === `layers.${l}.output`));
  const t0 = performance.now();
  for (let s = 0; s < order.length; s += 32) {
    const batch = order.slice(s, s + 32);
    const T = Math.max(...batch.map((i) => enc[i].ids.length));
    const ids = new Int32Array(batch.length * T);
    batch.forEach((i, b) => ids.set(enc[i].ids, b * T));
    noGrad(() => model.forward(ids, batch.length, T, { taps }));
    layers.forEach((l, li) => {
      const h = taps.activation(`layers.${l}.output`).data;
      batch.forEach((i, b) => {
        const { ids: seq, start } = enc[i];
        const f = out.subarray(i * dim + li * 2 * C, i * dim + (li + 1) * 2 * C);
        for (let t = start; t < seq.length; t++)
          for (let c = 0; c < C; c++) f[c] += h[(b * T + t) * C + c] / (seq.length - start);
        const last = (b * T + seq.length - 1) * C;
        for (let c = 0; c < C; c++) f[C + c] = h[last + c];
      });
    });
  }
  return { x: out, dim, seconds: (performance.now() - t0) / 1000 };
}

const { train: allTrain, heldOut } = buildJudgeDataset({ seed: 0 });
const rng = new Rng(1);
const train = allTrain
  .map((e) => [rng.nextUint32(), e])
  .sort((a, b) => a[0] - b[0])
  .slice(0, +values.train)
  .map(([, e]) => e);
const ft = features(train);
const fh = features(heldOut);
console.error(`features: ${ft.seconds.toFixed(1)} s train, ${fh.seconds.toFixed(1)} s held-out (${heldOut.length})`);

// Standardize by the training statistics, then logistic regression by full-batch Adam.
const { dim } = ft;
const mean = new Float64Array(dim);
const sd = new Float64Array(dim);
for (let i = 0; i < train.length; i++) for (let d = 0; d < dim; d++) mean[d] += ft.x[i * dim + d] / train.length;
for (let i = 0; i < train.length; i++)
  for (let d = 0; d < dim; d++) sd[d] += (ft.x[i * dim + d] - mean[d]) ** 2 / train.length;
for (let d = 0; d < dim; d++) sd[d] = Math.sqrt(sd[d]) + 1e-6;
const z = (x, i, d) => (x[i * dim + d] - mean[d]) / sd[d];
const w = new Float64Array(dim + 1);
const m = new Float64Array(dim + 1);
const v = new Float64Array(dim + 1);
const y = train.map((e) => (e.harmful ? 1 : 0));
const zt = Float64Array.from({ length: train.length * dim }, (_, k) => z(ft.x, Math.floor(k / dim), k % dim));
for (let step = 1; step <= +values.epochs; step++) {
  const g = new Float64Array(dim + 1);
  for (let i = 0; i < train.length; i++) {
    let s = w[dim];
    for (let d = 0; d < dim; d++) s += w[d] * zt[i * dim + d];
    const err = 1 / (1 + Math.exp(-s)) - y[i];
    for (let d = 0; d < dim; d++) g[d] += (err * zt[i * dim + d]) / train.length;
    g[dim] += err / train.length;
  }
  for (let d = 0; d <= dim; d++) {
    const gd = g[d] + (d < dim ? +values.l2 * w[d] : 0);
    m[d] = 0.9 * m[d] + 0.1 * gd;
    v[d] = 0.999 * v[d] + 0.001 * gd * gd;
    w[d] -= (0.05 * (m[d] / (1 - 0.9 ** step))) / (Math.sqrt(v[d] / (1 - 0.999 ** step)) + 1e-8);
  }
}
const said = heldOut.map((_, i) => {
  let s = w[dim];
  for (let d = 0; d < dim; d++) s += w[d] * z(fh.x, i, d);
  return s > 0;
});
const groups = {};
for (const group of new Set(heldOut.map((e) => e.group))) {
  const idx = heldOut.flatMap((e, i) => (e.group === group ? [i] : []));
  groups[group] = +(idx.filter((i) => said[i] === heldOut[i].harmful).length / idx.length).toFixed(3);
}
const gold = heldOut.flatMap((e, i) => (e.group.startsWith('gold-') ? [i] : []));
const fig = classFigures(
  gold.map((i) => heldOut[i].harmful),
  gold.map((i) => said[i]),
);
console.log(JSON.stringify({ values, gold_dev_held_out: fig, min_group: Math.min(...Object.values(groups)), groups }));
