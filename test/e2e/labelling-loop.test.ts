import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageEntry, ProjectInfo } from '../../electron/api.ts';
import { encodePng } from '../../electron/data/image-io.ts';
import { renderSample } from '../../electron/data/synth/render-sample.ts';
import { launchChromium } from './chromium.ts';
import { startKizu, type RunningKizu } from './kizu-server.ts';

/*
 * The operator's loop in Chromium against the real engine and trainer: a folder of images
 * with no labels, labelled OK/defect from the keyboard, trained on for a tiny budget, the
 * gallery re-scored and sorted by uncertainty, a mask accepted, and the model's measured
 * quality read from the model panel.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'test-results/screenshots');
const MODEL = join(ROOT, 'test/fixtures/resnet-tiny/weights.safetensors');
const SIZE = 64;
const PER_LABEL = 5;
const SLOW = 300_000;

let kizu: RunningKizu;
let browser: Browser;
let page: Page;
let work: string;
let folder: string;
const pageErrors: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
const rowsInOrder = () => page.$$eval('[role="option"]', (rows) =>
  rows.map((r) => ({ id: r.getAttribute('data-id')!, top: r.getBoundingClientRect().top })).sort((a, b) => a.top - b.top).map((r) => r.id));
const entries = () => kizu.call('listImages', {}) as Promise<ImageEntry[]>;

async function select(id: string): Promise<void> {
  await page.locator(`[role="option"][data-id="${id}"]`).click();
  await page.waitForSelector(`[role="option"][aria-selected="true"][data-id="${id}"]`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kizu-loop-e2e-'));
  folder = join(work, 'line 7');
  await mkdir(folder, { recursive: true });
  // A flat folder: no layout, so every label comes from the keyboard.
  for (let i = 0; i < 2 * PER_LABEL + 2; i++) {
    const s = renderSample('woven', 100 + i, SIZE, i % 2 === 1);
    await writeFile(join(folder, `p${String(i).padStart(2, '0')}.png`), await encodePng({ width: SIZE, height: SIZE, channels: 1, data: s.image }));
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
});

afterAll(async () => {
  await browser?.close();
  await kizu?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('label, train, review, measure: the loop in one window', () => {
  it('labels images OK and defect with one key each, one at a time and as a selection', async () => {
    expect(await page.getByTestId('label-counts').textContent()).toMatch(/OK 0\D+0\D+12/);
    const ids = await rowsInOrder();
    // Odd files carry a generated defect: D on the first two, one by one.
    for (const id of [ids[1], ids[3]]) {
      await select(id);
      await page.keyboard.press('d');
      await page.waitForFunction((i) => document.querySelector(`[role="option"][data-id="${i}"] [data-testid="gallery-row-label"]`)?.getAttribute('data-label') === 'defect', id);
    }
    // The rest as selections: Ctrl-click picks several, one key labels them all.
    await select(ids[5]);
    for (const id of [ids[7], ids[9]]) await page.locator(`[role="option"][data-id="${id}"]`).click({ modifiers: ['Control'] });
    await page.keyboard.press('d');
    await select(ids[0]);
    for (const id of [ids[2], ids[4], ids[6], ids[8]]) await page.locator(`[role="option"][data-id="${id}"]`).click({ modifiers: ['Control'] });
    await page.keyboard.press('o');
    await page.waitForFunction(() => /OK 5\D+5\D+2/.test(document.querySelector('[data-testid="label-counts"]')?.textContent ?? ''));
    const byId = new Map((await entries()).map((e) => [e.id, e]));
    for (let i = 0; i < 2 * PER_LABEL; i++) expect(byId.get(ids[i]), ids[i]).toMatchObject({ label: i % 2 ? 'defect' : 'ok', labelFrom: 'user' });
    expect([byId.get(ids[10])!.label, byId.get(ids[11])!.label]).toEqual([null, null]);
    await shot('loop-01-labelled');
  });

  it('trains from the folder\'s labels, with no path to type, and re-scores the gallery', async () => {
    await page.getByTestId('open-training').click();
    await page.getByTestId('training-panel').waitFor();
    expect(await page.getByTestId('train-source-project').isChecked()).toBe(true);
    await page.waitForFunction(() => /5 OK.*5 defect/.test(document.querySelector('[data-testid="train-set-summary"]')?.textContent ?? ''));
    expect(await page.getByTestId('train-set-warning').count()).toBe(0);
    await page.selectOption('#train-length', 'epochs');
    await page.fill('#train-epochs', '1');
    await page.locator('[data-testid="training-advanced"] summary').click();
    await page.fill('#train-batch', '4');
    await page.fill('#train-size', '32');
    await page.fill('#train-width', '4');
    await shot('loop-02-train-dialog');
    await page.getByTestId('training-start').click();
    await page.waitForSelector('[data-testid="training-status"][data-state="done"]', { timeout: SLOW });
    await page.keyboard.press('Escape');
    // The project's new model is on, and every image gets its score in the background.
    const info = await kizu.call('projectInfo', {}) as ProjectInfo;
    expect(info.model).toMatch(/[\\/]\.kizu[\\/]models[\\/]/);
    await page.waitForFunction(() => /^Model: kizu-resnet50/.test(document.querySelector('[data-testid="status-model"]')?.textContent ?? ''), undefined, { timeout: SLOW });
    await expect.poll(async () => (await entries()).every((e) => e.score !== null), { timeout: SLOW, interval: 1000 }).toBe(true);
  });

  it('sorts the gallery most uncertain first', async () => {
    await page.selectOption('[data-testid="sort-select"]', 'uncertainty');
    const scores = new Map((await entries()).map((e) => [e.id, e.score!]));
    await page.waitForTimeout(300);
    const order = await rowsInOrder();
    const distance = order.map((id) => Math.abs(scores.get(id)! - 0.5));
    expect(distance).toEqual([...distance].sort((a, b) => a - b));
    await shot('loop-03-rescored-gallery');
  });

  it('accepts a mask on an image the model did not train on, and shows the maps\' measured quality', async () => {
    const unlabelled = (await entries()).find((e) => e.label === null)!;
    await select(unlabelled.id);
    await page.waitForSelector(`.map-canvas[data-map-ready="${unlabelled.id}"]`, { timeout: SLOW });
    // The tiny model's map may flag nothing, or (on its own scale) everything: touch the mask up
    // as an inspector would, erasing a band and brushing a stroke, so it holds defect and
    // background and both figures are defined. Then accept it.
    await page.fill('[data-testid="brush-size"]', '10');
    const box = (await page.locator('.map-canvas canvas').boundingBox())!;
    const stroke = async (tool: 'b' | 'e', y: number) => {
      await page.keyboard.press(tool);
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * y);
      await page.mouse.down();
      for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * (0.3 + 0.04 * i), box.y + box.height * y);
      await page.mouse.up();
      await page.keyboard.press(tool);
    };
    await stroke('e', 0.2);
    await stroke('b', 0.5);
    const area = Number(await page.getAttribute('[data-testid="defect-area"]', 'data-value'));
    expect(area).toBeGreaterThan(0);
    expect(area).toBeLessThan(SIZE * SIZE);
    await page.keyboard.press('a');
    await expect.poll(async () => (await entries()).find((e) => e.id === unlabelled.id)?.state, { timeout: SLOW }).toBe('accepted');
    await page.getByTestId('model-quality-measure').click();
    await page.waitForFunction(() => /AUROC/.test(document.querySelector('[data-testid="model-quality"]')?.textContent ?? ''), undefined, { timeout: SLOW });
    const info = await kizu.call('projectInfo', {}) as ProjectInfo;
    expect(info.quality).toMatchObject({ model: info.model, images: 1 });
    const text = (await page.getByTestId('model-quality').textContent())!;
    expect(text).toContain(`Pixel AUROC ${info.quality!.pixelAuroc!.toFixed(3)}`);
    expect(text).toContain(`mIoU ${info.quality!.miou!.toFixed(3)}`);
    await shot('loop-04-model-quality');
  });

  it('raised no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
