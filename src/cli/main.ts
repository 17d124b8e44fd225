#!/usr/bin/env node
/** The pharmacist command line: parses arguments and calls the pipeline. */
import { Command, CommanderError } from 'commander';
import { UsageError } from '../config/usage-error.js';
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
  .version(packageVersion())
  // Commander's usage errors are thrown (it has printed them) rather than exiting, so that they exit 2 below;
  // subcommands inherit this.
  .exitOverride();
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
  // Exit codes: 0 done (help and --version included), 2 a usage error, 1 a failure of the work itself.
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : 2;
  else {
    console.error(`pharmacist: ${(error as Error).message}`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}
