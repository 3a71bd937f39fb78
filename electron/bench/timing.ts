/** Wall-clock ms of each of `runs` sequential calls. */
export async function timeIt(fn: () => Promise<unknown>, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const m = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return Math.round(m * 10) / 10;
}

export function peakRssMiB(): number {
  // maxRSS is in kilobytes on every platform Node supports.
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
