import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../../electron/data/image-io.ts';
import { ENGINE_WORKER_SOURCE, EngineCallError, EngineClient } from '../../../electron/worker/engine-client.ts';
import { microBatchFor } from '../../../electron/worker/model-jobs.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kizu-client-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('EngineClient', () => {
  it('starts without a model and says why there is none; explain then fails with status 409', async () => {
    const client = new EngineClient(ENGINE_WORKER_SOURCE, { modelPath: join(tmp, 'no-model') });
    try {
      const status = await client.start();
      expect(status.model).toBeNull();
      expect(status.modelError).toMatch(/^no model: .*no-model/);
      const err = await client.call('explain', { path: join(tmp, 'x.png'), modifiedAt: 0, methods: ['layercam'] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineCallError);
      expect(err).toMatchObject({ status: 409, message: expect.stringMatching(/^no model/) });
      // A closed client starts a new worker on the next call.
      await client.close();
      expect((await client.call('status', {})).modelError).toMatch(/no-model/);
    } finally {
      await client.close();
    }
  });

  it('closes while maps are being computed without taking the process down', async () => {
    // Ending a thread inside an onnxruntime call aborts the process (and this test file with it).
    const image = join(tmp, 'busy.png');
    const data = Uint8Array.from({ length: 512 * 512 }, (_, i) => (i * 7919) % 251);
    writeFileSync(image, await encodePng({ width: 512, height: 512, channels: 1, data }));
    const client = new EngineClient(ENGINE_WORKER_SOURCE, { modelPath: join(import.meta.dirname, '../../../models/default') });
    expect((await client.start()).model).not.toBeNull();
    // Closes at several points of an explain. A call whose answer came back before its close
    // resolves; one still running is rejected. Closing at once always catches it running.
    const outcomes: string[] = [];
    for (const delayMs of [0, 50, 200, 400]) {
      const maps = client.call('explain', { path: image, modifiedAt: delayMs, methods: ['layercam', 'gradcam'] });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const closed = client.close();
      outcomes.push(await maps.then(() => 'answered', (err: Error) => err.message));
      await closed;
      await client.start();
    }
    expect(outcomes[0]).toBe('the engine was shut down');
    for (const outcome of outcomes) expect(['answered', 'the engine was shut down']).toContain(outcome);
    const done = await client.call('explain', { path: image, modifiedAt: 1, methods: ['layercam'] });
    expect(done.probabilities.length).toBe(2);
    await client.close();
  });

  it('ends a one-off worker at once when its job is cancelled', async () => {
    const controller = new AbortController();
    // makeDemo does not watch the signal: only ending the worker stops it.
    const running = EngineClient.once(ENGINE_WORKER_SOURCE, 'makeDemo', { dir: join(tmp, 'big-demo'), classes: 6, size: 1024 }, {
      signal: controller.signal, terminateOnAbort: true,
    });
    controller.abort();
    await expect(running).rejects.toMatchObject({ cancelled: true, message: 'cancelled' });
  });
});

describe('microBatchFor', () => {
  it('is the largest divisor of the batch up to the preferred size', () => {
    expect(microBatchFor(32, 8)).toBe(8);
    expect(microBatchFor(12, 8)).toBe(6);
    expect(microBatchFor(7, 8)).toBe(7);
    expect(microBatchFor(13, 8)).toBe(1);
    expect(microBatchFor(1, 8)).toBe(1);
  });
});
