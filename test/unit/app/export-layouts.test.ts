import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MASK_PARAMS, EXPORT_FORMATS, type ApiMethod, type ApiRequest } from '../../../electron/api.ts';
import { maskIoU } from '../../../electron/annotate/mask.ts';
import { readAnnotations } from '../../../electron/data/annotation-reader.ts';
import { encodePng } from '../../../electron/data/image-io.ts';
import { createKizuService, type KizuService } from '../../../electron/service/kizu-service.ts';
import { ENGINE_WORKER_SOURCE, EngineClient } from '../../../electron/worker/engine-client.ts';
import { blobMask, differingPixels, rng } from '../annotate/synthetic.ts';
import { callThrough, jobEnd } from '../helpers/service-calls.ts';

/*
 * The app's export, service and engine worker alike, on a DAGM-layout project where two
 * accepted images share a file name in different folders: every format writes both, and its
 * annotations read back onto the right image.
 */

const tmp = mkdtempSync(join(tmpdir(), 'kizu-app-layouts-'));
const folder = join(tmp, 'dagm');
const engine = new EngineClient(ENGINE_WORKER_SOURCE, { modelPath: null });
let service: KizuService;
const call = <M extends ApiMethod>(method: M, request: ApiRequest<M>) => callThrough(service, method, request);

const ACCEPTED = [
  { id: 'Class1/Test/0000.PNG', width: 160, height: 128, seed: 71 },
  { id: 'Class2/Test/0000.PNG', width: 128, height: 144, seed: 72 },
];

beforeAll(async () => {
  const random = rng(25);
  for (const { id, width, height } of [...ACCEPTED, { id: 'Class1/Test/0001.PNG', width: 96, height: 96 }]) {
    mkdirSync(join(folder, id, '..'), { recursive: true });
    const data = new Uint8Array(width * height).map(() => Math.floor(random() * 256));
    writeFileSync(join(folder, id), await encodePng({ width, height, channels: 1, data }));
  }
  service = createKizuService({
    engine,
    runIsolated: (op, args, options) => EngineClient.once(ENGINE_WORKER_SOURCE, op, args, options),
    demoDir: join(tmp, 'demo'),
    appVersion: 'test',
    log: () => undefined,
  });
  await engine.start();
  await call('openFolder', { path: folder });
  for (const { id, width, height, seed } of ACCEPTED) {
    const mask = { width, height, data: Uint8Array.from(blobMask(width, height, seed).data) };
    await call('saveReview', { id, state: 'accepted', params: DEFAULT_MASK_PARAMS, mask });
  }
});

afterAll(async () => {
  await engine.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("the app's export of accepted images that share a file name", () => {
  // The formats the app offers.
  for (const format of EXPORT_FORMATS) {
    it(`${format}: both images exported, each read back onto its own`, async () => {
      const out = join(tmp, `out-${format}`);
      const { jobId } = await call('startExport', { format, outDir: out, which: 'accepted' });
      const end = await jobEnd(service, jobId);
      expect(end, JSON.stringify(end)).toMatchObject({ state: 'done', result: { images: 2 } });
      const back = await readAnnotations(out, format, { imageDir: folder });
      expect(back.items.map((i) => i.fileName)).toEqual(ACCEPTED.map((a) => a.id));
      for (const { id, width, height, seed } of ACCEPTED) {
        const got = back.items.find((i) => i.fileName === id)!;
        const want = blobMask(width, height, seed);
        if (format === 'coco' || format === 'yolo' || format === 'labelme') expect(maskIoU(got.mask, want), `${format} ${id}`).toBeGreaterThanOrEqual(0.99);
        else expect(differingPixels(got.mask, want), `${format} ${id}`).toBe(0);
      }
    });
  }
});
