import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../../electron/api.ts';
import { estimateEta, JobRegistry } from '../../../electron/service/jobs.ts';

function clock(start = 1000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('JobRegistry', () => {
  it('sends running events with done/total and an ETA from the rate so far, then done with the result', async () => {
    const c = clock();
    const jobs = new JobRegistry(c.now);
    const events: JobEvent[] = [];
    jobs.subscribe((e) => events.push(e));
    const { jobId, done } = jobs.start('export', 4, 'exporting', async (ctx) => {
      c.advance(2000);
      ctx.progress({ done: 1, message: 'a.png' });
      c.advance(2000);
      ctx.progress({ done: 2, message: 'b.png', failures: [{ file: 'b.png', message: 'truncated' }] });
      return { files: 3 };
    });
    const last = await done;
    expect(events[0]).toMatchObject({ jobId, kind: 'export', state: 'running', done: 0, total: 4, etaSeconds: null });
    expect(events[1]).toMatchObject({ done: 1, etaSeconds: 6, message: 'a.png' });
    expect(events[2]).toMatchObject({ done: 2, etaSeconds: 4, failures: [{ file: 'b.png', message: 'truncated' }] });
    expect(last).toMatchObject({ state: 'done', done: 4, etaSeconds: 0, result: { files: 3 } });
    expect(jobs.list()).toEqual([last]);
  });

  it('cancels through the signal and reports cancelled; a failure keeps its message', async () => {
    const jobs = new JobRegistry();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const cancelled = jobs.start('train', 10, 'training', (ctx) => new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
      started();
    }));
    await running;
    expect(jobs.cancel(cancelled.jobId)).toBe(true);
    expect((await cancelled.done).state).toBe('cancelled');
    expect(jobs.cancel(cancelled.jobId)).toBe(false);
    expect(jobs.cancel('no-such-job')).toBe(false);

    const failed = jobs.start('evaluate', 1, 'evaluating', async () => {
      throw new Error('data/labels.csv: line 3: no label');
    });
    expect(await failed.done).toMatchObject({ state: 'failed', message: 'data/labels.csv: line 3: no label', etaSeconds: null });
  });

  it('takes the ETA the work gives when it knows better, and ignores progress after the end', async () => {
    const jobs = new JobRegistry();
    const events: JobEvent[] = [];
    jobs.subscribe((e) => events.push(e));
    let late: ((n: number) => void) | undefined;
    const { done } = jobs.start('train', 0, 'training', async (ctx) => {
      ctx.progress({ done: 5, total: 100, etaSeconds: 42, metrics: { step: 5, epoch: 1, loss: 0.7, accuracy: 0.5, lr: 0.01, imagesPerSecond: 3 } });
      late = (n) => ctx.progress({ done: n });
      return {};
    });
    await done;
    late!(99);
    expect(events[1]).toMatchObject({ done: 5, total: 100, etaSeconds: 42, metrics: { loss: 0.7 } });
    expect(events.at(-1)!.state).toBe('done');
    expect(events.length).toBe(3);
  });

  it('never starts a job cancelled before its turn', async () => {
    const jobs = new JobRegistry();
    let ran = false;
    const job = jobs.start('export', 1, 'x', async () => {
      ran = true;
      return {};
    });
    jobs.cancel(job.jobId);
    expect((await job.done).state).toBe('cancelled');
    expect(ran).toBe(false);
  });

  it('keeps a throwing listener from stopping the job or the other listeners', async () => {
    const jobs = new JobRegistry();
    const seen: string[] = [];
    jobs.subscribe(() => {
      throw new Error('socket closed');
    });
    jobs.subscribe((e) => seen.push(e.state));
    await jobs.start('export', 1, 'x', async () => ({})).done;
    expect(seen).toEqual(['running', 'done']);
  });
});

describe('estimateEta', () => {
  it('is null before any progress, zero at the end, linear in between', () => {
    expect(estimateEta(0, 10, 5000)).toBeNull();
    expect(estimateEta(10, 10, 5000)).toBe(0);
    expect(estimateEta(5, 10, 5000)).toBe(5);
    expect(estimateEta(3, 0, 100)).toBeNull();
  });
});
