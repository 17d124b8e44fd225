#!/usr/bin/env node
// Where a plug-in or training knob is written outside its declaration (issue 18's check): for every declared knob,
// the lines of src/cli, src/pipeline and src/queue (tests excluded) that spell its flag ('--inner-lr'), or set it
// to a literal under its snake_case or camelCase name (inner_lr: 0.1, innerLr: 0.1). Run after `npm run build`.
// Prints each hit, then one JSON line: {"knobs": N, "hits": M}.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SELECTOR_KNOBS } from '../dist/src/select/registry.js';
import { DEFENSE_KNOBS } from '../dist/src/defenses/registry.js';
import { JUDGE_KNOBS } from '../dist/src/eval/judges/registry.js';
import { TRAINING_KNOBS } from '../dist/src/train/sft.js';
import { ATTACK_KNOBS } from '../dist/src/pipeline/stage-runs.js';

const families = {
  ...SELECTOR_KNOBS,
  ...DEFENSE_KNOBS,
  ...JUDGE_KNOBS,
  training: TRAINING_KNOBS,
  attack: ATTACK_KNOBS,
};
const names = new Set(Object.values(families).flatMap((knobs) => Object.keys(knobs)));
const kebab = (n) => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snake = (n) => n.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const literal = String.raw`\s*(-?[\d.]+(e-?\d+)?|'[^']*'|"[^"]*"|true|false|null)\s*[,}]`;

function files(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

let hits = 0;
for (const file of ['src/cli', 'src/pipeline', 'src/queue'].flatMap((d) => files(d))) {
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (/^\s*(\/\/|\*|\/\*\*)/.test(line)) return;
      for (const name of names) {
        const flag = new RegExp(`['\`]--${kebab(name)}\\b`);
        const set = new RegExp(`\\b(${snake(name)}|${name}):${literal}`);
        if (flag.test(line) || set.test(line)) {
          hits++;
          console.log(`${file}:${i + 1}: [${name}] ${line.trim()}`);
        }
      }
    });
}
console.log(JSON.stringify({ knobs: names.size, hits }));
