export type Priority = 'interactive' | 'batch';

/**
 * One engine, one piece of work at a time, with what the inspector is waiting for first: a
 * batch export or classification takes the gate image by image, so an explain asked for
 * in between waits for at most one image of the batch.
 */
export class PriorityGate {
  private busy = false;
  private readonly waiting: Record<Priority, (() => void)[]> = { interactive: [], batch: [] };

  async run<T>(priority: Priority, work: () => Promise<T>): Promise<T> {
    if (this.busy) await new Promise<void>((resolve) => this.waiting[priority].push(resolve));
    this.busy = true;
    try {
      return await work();
    } finally {
      const next = this.waiting.interactive.shift() ?? this.waiting.batch.shift();
      if (next) next();
      else this.busy = false;
    }
  }
}
