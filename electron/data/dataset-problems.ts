import type { DatasetProblem } from './dataset-types.ts';

/** A dataset entry that was bad while reading in strict mode, or a fault that no reading can skip. */
export class DatasetError extends Error {
  constructor(readonly problem: DatasetProblem) {
    super(`${problem.where}: ${problem.message}`);
    this.name = 'DatasetError';
  }
}

/** Collects bad entries, or throws on the first one when strict. */
export class ProblemLog {
  readonly problems: DatasetProblem[] = [];

  constructor(private readonly strict: boolean) {}

  report(where: string, message: string): void {
    const problem = { where, message };
    if (this.strict) throw new DatasetError(problem);
    this.problems.push(problem);
  }
}
