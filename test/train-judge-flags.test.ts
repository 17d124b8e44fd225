/** train-judge's --gold-waves reaches the training data as given: a number, or null for every wave. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { goldWavesFlag, registerJudge } from '../src/cli/commands/judge.js';
import { buildJudgeDataset } from '../src/eval/judge-data.js';

/** The options commander hands train-judge's action for these arguments (the action itself is not run). */
async function trainJudgeOptions(...args: string[]): Promise<Record<string, unknown>> {
  const program = new Command().exitOverride();
  registerJudge(program);
  let seen: Record<string, unknown> = {};
  program.hook('preAction', (_, command) => {
    seen = command.opts();
    throw new Error('stop before training');
  });
  await assert.rejects(program.parseAsync(['node', 'pharmacist', 'train-judge', ...args]), /stop before training/);
  return seen;
}

test('train-judge --gold-waves: "all" survives commander (a parser returning null comes back as "")', async () => {
  assert.equal((await trainJudgeOptions('--gold-waves', 'all')).goldWaves, 'all');
  assert.equal((await trainJudgeOptions('--gold-waves', '8')).goldWaves, 8);
  assert.equal((await trainJudgeOptions()).goldWaves, undefined);
  assert.equal(goldWavesFlag('all'), 'all');
  assert.throws(() => goldWavesFlag('0'));
  assert.throws(() => goldWavesFlag(''));
});

test('train-judge --sentence-stack, --stack-balanced and --stack-groups reach the options; off unless given', async () => {
  const both = await trainJudgeOptions('--sentence-stack', '--stack-balanced', '--stack-groups', 'held-out');
  assert.deepEqual([both.sentenceStack, both.stackBalanced, both.stackGroups], [true, true, 'held-out']);
  const none = await trainJudgeOptions();
  assert.deepEqual([none.sentenceStack, none.stackBalanced], [undefined, undefined]);
});

test('judge data: a goldWaves that is neither a wave number nor null is an error, not a judge without gold pairs', () => {
  for (const bad of ['', 0, 2.5, 'all'])
    assert.throws(
      () => buildJudgeDataset({ goldWaves: bad as never }),
      /goldWaves must be a wave number \(1 or more\) or null/,
    );
});
