/** The report of a run's results store: the pipeline analyses it, the report lays it out (report/report.ts). */
import { join } from 'node:path';
import { analyzeResults } from '../pipeline/results.js';
import { loadResults, writeReport, type Report, type ResultsStore } from '../report/report.js';

/** Write report.md, its figures and report.html for a loaded store into `outDir`. */
export function reportOf(store: ResultsStore, outDir: string): Report {
  return writeReport(store, analyzeResults(store.results), outDir);
}

/** After a grid: the report beside its results, unless the config turned it off. */
export function reportAfterRun(
  config: { run_dir: string; report: boolean },
  log: (line: string) => void = console.error,
): void {
  if (!config.report) return;
  reportOf(loadResults(config.run_dir), config.run_dir);
  log(`report: ${join(config.run_dir, 'report.md')}, ${join(config.run_dir, 'report.html')}`);
}
