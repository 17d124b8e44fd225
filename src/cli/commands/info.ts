import type { Command } from 'commander';
import { describeEnvironment } from '../../pipeline/environment.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the backend, thread count and versions this machine will use')
    .action(() => {
      console.log(JSON.stringify(describeEnvironment(), null, 2));
    });
}
