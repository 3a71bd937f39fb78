import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAINING_MINUTES } from '../../../electron/api.ts';
import { budgetMinutes } from '../../../electron/commands/train.ts';

/** What `kizu train` plans for, given its command line (the options as train and pretrain declare them). */
function planned(argv: string[]): number | undefined {
  const command = new Command()
    .exitOverride()
    .option('--epochs <n>', 'epochs', Number, 15)
    .option('--minutes <n>', 'budget', Number);
  command.parse(argv, { from: 'user' });
  return budgetMinutes(command.opts<{ minutes?: number }>().minutes, command);
}

describe('the training budget a command line gets', () => {
  it('is the default budget when neither --minutes nor --epochs is given, as in the app', () => {
    expect(DEFAULT_TRAINING_MINUTES).toBe(45);
    expect(planned([])).toBe(DEFAULT_TRAINING_MINUTES);
  });

  it('is --minutes when given, even beside --epochs', () => {
    expect(planned(['--minutes', '10'])).toBe(10);
    expect(planned(['--minutes', '10', '--epochs', '3'])).toBe(10);
  });

  it('is none (the epochs decide) when only --epochs is given', () => {
    expect(planned(['--epochs', '3'])).toBeUndefined();
  });
});
