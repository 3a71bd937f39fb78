import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MASK_PARAMS, type ProjectInfo } from '../../electron/api.ts';
import { encodePng } from '../../electron/data/image-io.ts';
import { renderSample } from '../../electron/data/synth/render-sample.ts';
import { launchChromium } from './chromium.ts';
import { startKizu, type RunningKizu } from './kizu-server.ts';

/*
 * Learning from reviewed masks in Chromium, against the real engine and trainer: a folder
 * whose defect images all have an accepted mask, a first training on the labels alone, a
 * second with "Learn from N reviewed masks", and the model panel's figures after it beside
 * the first model's, before.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'test-results/screenshots');
const MODEL = join(ROOT, 'test/fixtures/resnet-tiny/weights.safetensors');
const SIZE = 64;
const OK = 6;
const DEFECT = 9;
const SLOW = 300_000;

let kizu: RunningKizu;
let browser: Browser;
let page: Page;
let work: string;
let folder: string;
const pageErrors: string[] = [];
const masks = new Map<string, Uint8Array<ArrayBuffer>>();

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
const info = () => kizu.call('projectInfo', {}) as Promise<ProjectInfo>;

async function train(withMasks: boolean): Promise<string> {
  const before = (await info()).model;
  await page.getByTestId('open-training').click();
  await page.getByTestId('training-panel').waitFor();
  const box = page.getByTestId('train-masks');
  await box.waitFor();
  if ((await box.isChecked()) !== withMasks) await box.click();
  await page.selectOption('#train-length', 'epochs');
  await page.fill('#train-epochs', '2');
  const advanced = page.locator('[data-testid="training-advanced"]');
  if (!(await advanced.getAttribute('open'))) await advanced.locator('summary').click();
  await page.fill('#train-batch', '4');
  await page.fill('#train-size', String(SIZE));
  await page.fill('#train-width', '4');
  await shot(withMasks ? 'masks-02-train-with-masks' : 'masks-01-train-labels-only');
  await page.getByTestId('training-start').click();
  await expect.poll(async () => (await info()).model, { timeout: SLOW, interval: 500 }).not.toBe(before);
  await page.waitForSelector('[data-testid="training-status"][data-state="done"]', { timeout: SLOW });
  await page.keyboard.press('Escape');
  const model = (await info()).model!;
  // Adopted, re-scored, then measured on the reviewed masks it never trained on.
  await expect.poll(async () => (await info()).quality?.model, { timeout: SLOW, interval: 1000 }).toBe(model);
  return model;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kizu-masks-e2e-'));
  folder = join(work, 'line 9');
  for (const sub of ['ok', 'defect']) await mkdir(join(folder, sub), { recursive: true });
  for (let i = 0; i < OK + DEFECT; i++) {
    const defect = i >= OK;
    const s = renderSample('woven', 300 + i, SIZE, defect);
    const id = defect ? `defect/d${i}.png` : `ok/o${i}.png`;
    await writeFile(join(folder, id), await encodePng({ width: SIZE, height: SIZE, channels: 1, data: s.image }));
    if (defect) masks.set(id, Uint8Array.from(s.mask, (v) => (v ? 1 : 0)));
  }
  await mkdir(SHOTS, { recursive: true });
  kizu = await startKizu({ root: ROOT, model: MODEL, dataDir: join(work, 'data') });
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'en-US' });
  await context.addInitScript((path) => {
    localStorage.setItem('kizu.launched', '1');
    localStorage.setItem('kizu.lastProject', path);
  }, folder);
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(kizu.url);
  await page.waitForSelector('[role="option"]', { timeout: SLOW });
  // The inspector's accepted masks: the generator's exact ones, saved as the viewer's A saves them.
  for (const [id, data] of masks) await kizu.call('saveReview', { id, state: 'accepted', params: DEFAULT_MASK_PARAMS, mask: { width: SIZE, height: SIZE, data } });
  await page.reload();
  await page.waitForSelector('[role="option"]', { timeout: SLOW });
});

afterAll(async () => {
  await browser?.close();
  await kizu?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('learn from reviewed masks: train, train again with them, see what they bought', () => {
  let first: string;

  it('offers the training part\'s reviewed masks, checked, and keeps a third aside to measure', async () => {
    await page.getByTestId('open-training').click();
    await page.getByTestId('training-panel').waitFor();
    await page.waitForFunction(() => /kept aside/.test(document.querySelector('[data-testid="train-set-summary"]')?.textContent ?? ''));
    expect(await page.getByTestId('train-set-summary').textContent()).toContain(`${DEFECT / 3} images with a reviewed mask are kept aside`);
    const box = page.getByTestId('train-masks');
    expect(await box.isChecked()).toBe(true);
    expect((await page.locator('label:has([data-testid="train-masks"])').textContent())!.trim()).toBe(`Learn from ${DEFECT - DEFECT / 3} reviewed masks`);
    await page.keyboard.press('Escape');
  });

  it('trains on the labels alone, and the model panel measures it on the masks kept aside', async () => {
    first = await train(false);
    const manifest = JSON.parse(readFileSync(join(first, 'manifest.json'), 'utf8')) as { provenance: { trainedMasks?: unknown } };
    expect(manifest.provenance.trainedMasks).toBeUndefined();
    const quality = (await info()).quality!;
    expect(quality.images).toBe(DEFECT / 3);
    await page.waitForFunction((text) => (document.querySelector('[data-testid="model-quality"]')?.textContent ?? '').includes(text),
      `Pixel AUROC ${quality.pixelAuroc!.toFixed(3)}`, { timeout: SLOW });
  });

  it('trains again learning from the reviewed masks, and shows the figures after beside those before', async () => {
    const second = await train(true);
    const manifest = JSON.parse(readFileSync(join(second, 'manifest.json'), 'utf8')) as { provenance: { trainedMasks: { count: number; images: string[] } } };
    expect(manifest.provenance.trainedMasks.count).toBeGreaterThan(0);
    const rows = readFileSync(join(second, 'training-set.csv'), 'utf8');
    const measured = rows.split('\n').filter((l) => l.endsWith(',test')).map((l) => l.split(',')[0]);
    for (const image of manifest.provenance.trainedMasks.images) expect(measured).not.toContain(resolve(second, image));
    const now = await info();
    expect(now.previousQuality?.model).toBe(first);
    expect(now.quality?.images).toBe(now.previousQuality?.images);
    const after = `Pixel AUROC ${now.quality!.pixelAuroc!.toFixed(3)} · mIoU ${now.quality!.miou!.toFixed(3)}`;
    const before = `Before (${first.split(/[\\/]/).at(-1)}): pixel AUROC ${now.previousQuality!.pixelAuroc!.toFixed(3)} · mIoU ${now.previousQuality!.miou!.toFixed(3)}`;
    await page.waitForFunction((text) => (document.querySelector('[data-testid="model-quality"]')?.textContent ?? '').includes(text), after, { timeout: SLOW });
    expect((await page.getByTestId('model-quality-before').textContent())!.trim()).toBe(before);
    await page.getByTestId('model-section').scrollIntoViewIfNeeded();
    await shot('masks-03-before-after');
    console.log(`reviewed masks kept aside, LayerCAM fused: ${before}; after: ${after}`);
  });

  it('raised no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
