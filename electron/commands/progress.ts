import cliProgress from 'cli-progress';

export interface Progress {
  tick(label: string): void;
  stop(): void;
}

/** A terminal progress bar with ETA on stderr; silent when stderr is not a terminal. */
export function terminalProgress(total: number, what: string): Progress {
  const bar = new cliProgress.SingleBar(
    { format: `${what} [{bar}] {value}/{total} | ETA {eta_formatted} | {label}`, hideCursor: true, etaBuffer: 20, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { label: '' });
  return {
    tick: (label) => bar.increment(1, { label }),
    stop: () => bar.stop(),
  };
}
