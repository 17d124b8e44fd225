#!/usr/bin/env node
/** The pharmacist command line: parses arguments and calls the pipeline. */
import { Command } from 'commander';
import { packageVersion } from '../pipeline/environment.js';
import { registerDemo } from './commands/demo.js';
import { registerGenerate } from './commands/generate.js';
import { registerInfo } from './commands/info.js';
import { registerJudge } from './commands/judge.js';
import { registerKnobs } from './commands/knobs.js';
import { registerPretrain } from './commands/pretrain.js';
import { registerReport } from './commands/report.js';
import { registerReproduce } from './commands/reproduce.js';
import { registerRun } from './commands/run.js';
import { registerSelect } from './commands/select.js';
import { registerSelftest } from './commands/selftest.js';
import { registerStages } from './commands/stages.js';
import { registerStatus } from './commands/status.js';
import { registerVariance } from './commands/variance.js';
import { registerWorker } from './commands/worker.js';
import { registerWorldCheck } from './commands/world-check.js';

const program = new Command();
program
  .name('pharmacist')
  .description('Safety-alignment data curation against harmful fine-tuning: select, align, attack, evaluate.')
  .version(packageVersion());
registerInfo(program);
registerSelftest(program);
registerGenerate(program);
registerPretrain(program);
registerJudge(program);
registerWorldCheck(program);
registerSelect(program);
registerStages(program);
registerDemo(program);
registerRun(program);
registerWorker(program);
registerStatus(program);
registerReport(program);
registerVariance(program);
registerReproduce(program);
registerKnobs(program);

try {
  await program.parseAsync();
} catch (error) {
  console.error(`pharmacist: ${(error as Error).message}`);
  process.exitCode = 1;
}
