import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaleOfParams } from '../../electron/api.ts';
import { maskFromMap } from '../../electron/annotate/cleanup.ts';
import { COCO_ANNOTATION_FILE, importCoco } from '../../electron/annotate/formats/coco.ts';
import { countForeground, maskIoU } from '../../electron/annotate/mask.ts';
import { modelDefaultThreshold, resolveThreshold } from '../../electron/annotate/mask-threshold.ts';
import { en } from '../../renderer/src/i18n/en.ts';
import { ja } from '../../renderer/src/i18n/ja.ts';
import { launchChromium } from './chromium.ts';
import { defectArea, MAP_TIMEOUT, mapShown as shownOn, movedOn as movedOnFrom, selectedId } from './page-reads.ts';
import { startKizu, type RunningKizu } from './kizu-server.ts';

/*
 * The inspector's day in the web mode, in Debian's Chromium, against the real engine with
 * the tiny fixture model. The steps share one page and run in order, like a person would.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'test-results/screenshots');
const MODEL = join(ROOT, 'test/fixtures/resnet-tiny/weights.safetensors');

let kizu: RunningKizu;
let browser: Browser;
let page: Page;
let work: string;
const pageErrors: string[] = [];
let explainCount = 0;
const timings: Record<string, number> = {};

const q = (value: string) => JSON.stringify(value);
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
const currentId = () => selectedId(page);
const mapShown = (id: string) => shownOn(page, id);
const area = () => defectArea(page);
/** Waits until another image than `id` is on screen. */
const movedOn = (id: string) => movedOnFrom(page, id);
/** Waits for the gallery's filter chip of a state to count `n` images (rows scrolled away are not in the page). */
const chipCount = (state: string, n: number) =>
  page.waitForFunction(([s, v]) => document.querySelector(`.chip[data-state="${s}"] .n`)?.textContent === v, [state, String(n)] as const);

async function setThreshold(value: number): Promise<void> {
  await page.fill('[data-testid="threshold-slider"]', String(value));
  await page.waitForFunction((v) => (document.querySelector('[data-testid="threshold-value"]') as HTMLInputElement).value === v, value.toFixed(2));
}

/** Milliseconds from a click (or key) that opens an image to its map painted on the canvas. */
async function timeToMap(open: () => Promise<void>, id: string): Promise<number> {
  const start = performance.now();
  await open();
  await mapShown(id);
  return Math.round(performance.now() - start);
}

/** en's fixed strings that ja words differently: none of them may be on a Japanese screen. */
function englishOnly(): string[] {
  const out: string[] = [];
  const walk = (mine: unknown, theirs: unknown): void => {
    if (typeof mine === 'string') {
      if (mine !== theirs && /[A-Za-z]{3}/.test(mine)) out.push(mine);
    } else if (Array.isArray(mine)) {
      mine.forEach((row, i) => walk(row, (theirs as unknown[])[i]));
    } else if (mine && typeof mine === 'object') {
      for (const [k, v] of Object.entries(mine)) walk(v, (theirs as Record<string, unknown>)[k]);
    }
  };
  walk(en, ja);
  return out;
}

/** Every English string of the catalogue that `target` shows, as text or as a tooltip, label or placeholder. */
async function untranslated(target: Page): Promise<string[]> {
  const text = await target.evaluate(() => {
    const parts = [document.body.innerText];
    for (const el of Array.from(document.querySelectorAll('[title], [aria-label], [placeholder]'))) {
      for (const a of ['title', 'aria-label', 'placeholder']) parts.push(el.getAttribute(a) ?? '');
    }
    return parts.join('\n');
  });
  const word = (s: string) => new RegExp(`(^|[^A-Za-z])${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z])`);
  return englishOnly().filter((s) => word(s).test(text));
}

/** Elements that stick out of their panel, and buttons or labels whose text is wider than they are. */
async function overflowing(target: Page): Promise<string[]> {
  return target.evaluate(() => {
    const out: string[] = [];
    const name = (el: Element) => `${el.tagName.toLowerCase()}.${Array.from(el.classList).join('.')} "${(el.textContent ?? '').trim().slice(0, 30)}"`;
    for (const panel of Array.from(document.querySelectorAll('.controls, .gallery .head, .toolbar, .status, .dialog'))) {
      const box = panel.getBoundingClientRect();
      for (const el of Array.from(panel.querySelectorAll('*'))) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1)) out.push(`out of its panel: ${name(el)}`);
        if ((el.matches('button, label, h1, h2, .badge, .chip') && el.scrollWidth > el.clientWidth + 1)) out.push(`text clipped: ${name(el)}`);
      }
    }
    return out;
  });
}

/** The Latin words on screen, printed so a person can tell names (files, model, engine) from misses. */
async function latinWords(target: Page): Promise<string[]> {
  const text = await target.evaluate(() => document.body.innerText);
  return [...new Set(text.match(/[A-Za-z][A-Za-z+-]*/g) ?? [])].sort();
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kizu-e2e-'));
  // Only this run's pictures: a view that is gone must not leave an old screenshot behind. The
  // other e2e files' pictures (first-*, loop-*, masks-*) share the folder and may be written already.
  await mkdir(SHOTS, { recursive: true });
  for (const name of await readdir(SHOTS)) if (/^(\d\d|ja)-.*\.png$/.test(name)) await rm(join(SHOTS, name));
  kizu = await startKizu({ root: ROOT, model: MODEL, dataDir: join(work, 'data') });
  browser = await launchChromium();
  // The system language decides the UI's: these steps read English, whatever this machine speaks.
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, locale: 'en-US' });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('request', (r) => {
    if (r.url().endsWith('/api/explain')) explainCount++;
  });
  await page.goto(kizu.url);
});

afterAll(async () => {
  await browser?.close();
  await kizu?.close();
  if (work) await rm(work, { recursive: true, force: true });
  if (Object.keys(timings).length) {
    await writeFile(join(ROOT, 'test-results/e2e-timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    console.log(`open image -> map shown (ms): ${JSON.stringify(timings)}`);
  }
});

describe('the inspector in Chromium against the real engine', () => {
  let editedId = '';
  let editedArea = 0;

  it('opens on the demo set at the first launch and runs LayerCAM on its first image', async () => {
    await page.waitForFunction(() => document.querySelector('[data-testid="status-model"]')?.textContent === 'Model: weights');
    await page.waitForSelector('[role="option"]', { timeout: MAP_TIMEOUT });
    expect(await page.getByTestId('project-root').getAttribute('title')).toBe(join(work, 'data', 'demo'));
    const firstId = await currentId();
    expect(firstId).not.toBe('');
    await mapShown(firstId);
    const imageCount = Number(/\/ ([\d,]+) reviewed/.exec((await page.getByTestId('reviewed-count').textContent()) ?? '')?.[1].replace(/,/g, ''));
    expect(imageCount).toBeGreaterThan(5);
    expect(await page.getAttribute('[data-testid="method"] [data-value="layercam"]', 'aria-checked')).toBe('true');
    expect(await page.getByTestId('classification').textContent()).toMatch(/class\d[\s\S]*%/);
    expect(await page.getByTestId('component-count').textContent()).toMatch(/^\d[\d,]* components?$/);
  });

  it('shows, after the first launch, an empty state that says what to do, and its demo button opens the demo set', async () => {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'en-US' });
    await context.addInitScript(() => localStorage.setItem('kizu.launched', '1'));
    const other = await context.newPage();
    await other.goto(kizu.url);
    const empty = other.getByTestId('empty-state');
    await empty.waitFor();
    expect(await empty.textContent()).toContain('Open a folder of images (Ctrl+O) or try the demo set');
    await other.screenshot({ path: join(SHOTS, '01-empty-state.png') });
    await other.getByTestId('open-demo').click();
    await other.waitForSelector('[role="option"]', { timeout: MAP_TIMEOUT });
    expect(await other.getByTestId('reviewed-count').textContent()).toMatch(/^0 \/ /);
    await context.close();
  });

  it('shows a map for an image opened from the gallery, and the prefetched next one sooner', async () => {
    const rows = page.locator('[role="option"]');
    const target = (await rows.nth(4).getAttribute('data-id'))!;
    timings.openFromGallery = await timeToMap(() => rows.nth(4).click(), target);
    // The next unreviewed image is computed in the background once this map is in.
    await page.waitForTimeout(4000);
    const next = (await rows.nth(5).getAttribute('data-id'))!;
    timings.openPrefetchedNext = await timeToMap(() => page.keyboard.press('ArrowRight'), next);
    expect(await currentId()).toBe(next);
    await shot('02-main-view');
  });

  it('switches layers from the keyboard with no new map request', async () => {
    const explainsBefore = explainCount;
    const canvas = page.locator('.map-canvas canvas');
    const pictures: Buffer[] = [];
    for (const [key, layer] of [['2', 'layer2'], ['3', 'layer3'], ['4', 'layer4'], ['f', 'fused']] as const) {
      await page.keyboard.press(key);
      await page.waitForSelector(`.map-canvas[data-layer="${layer}"]`);
      expect(await page.getAttribute(`[data-testid="layer"] [data-value="${layer}"]`, 'aria-checked')).toBe('true');
      await page.waitForTimeout(100);
      pictures.push(await canvas.screenshot());
      if (layer === 'layer2') await shot('03-layer2');
    }
    expect(explainCount).toBe(explainsBefore);
    expect(pictures[0].equals(pictures[2])).toBe(false);
  });

  it('moves the threshold and the mask follows, exactly as annotate/ computes it from the map', async () => {
    await setThreshold(0.2);
    const low = await area();
    await setThreshold(0.85);
    const high = await area();
    expect(high).toBeLessThan(low);
    await setThreshold(0.3);
    const shown = await area();
    const id = await currentId();
    await expect.poll(async () => (await kizu.call('getReview', { id })).params.threshold, { timeout: 10_000 }).toEqual({ kind: 'value', value: 0.3 });
    const review = await kizu.call('getReview', { id });
    const maps = await kizu.call('explain', { id, methods: ['layercam'], scale: scaleOfParams(review.params) });
    const { model } = await kizu.call('engineInfo', {});
    const threshold = resolveThreshold(review.params.threshold, modelDefaultThreshold(model!.mapThresholds, 'layercam', 'fused', maps.scale));
    const expected = maskFromMap(maps.maps.layercam!.fused, { threshold, cleanup: review.params.cleanup });
    expect(countForeground(expected.mask)).toBe(shown);
    await shot('04-threshold');
  });

  it('paints with the brush, undoes and redoes, then accepts', async () => {
    await setThreshold(0.95);
    const before = await area();
    await page.keyboard.press('b');
    await page.fill('[data-testid="brush-size"]', '40');
    // A band right across the image: the untrained fixture's masks are large, but never all of it.
    const box = (await page.locator('.map-canvas canvas').boundingBox())!;
    const y = box.y + box.height * 0.5;
    await page.mouse.move(box.x + 2, y);
    await page.mouse.down();
    for (let i = 1; i <= 20; i++) await page.mouse.move(box.x + 2 + ((box.width - 4) * i) / 20, y);
    await page.mouse.up();
    const painted = await area();
    expect(painted).toBeGreaterThan(before);
    expect(await page.getAttribute('[data-testid="review-state"]', 'data-state')).toBe('edited');
    await shot('05-brush');

    await page.keyboard.press('Control+z');
    expect(await area()).toBe(before);
    await page.keyboard.press('Control+Shift+Z');
    expect(await area()).toBe(painted);
    await page.keyboard.press('b');

    editedId = await currentId();
    editedArea = painted;
    await page.keyboard.press('a');
    await movedOn(editedId);
    await chipCount('accepted', 1);
    expect(await page.getByTestId('reviewed-count').textContent()).toMatch(/^1 \/ /);
    await expect.poll(async () => (await kizu.call('getReview', { id: editedId })).state, { timeout: 10_000 }).toBe('accepted');
    const stored = await kizu.call('getReview', { id: editedId });
    expect(stored.mask).not.toBeNull();
    expect(countForeground(stored.mask!)).toBe(editedArea);
  });

  it('keeps every change across a reload', async () => {
    await page.reload();
    await chipCount('accepted', 1);
    // Found again through the state filter, as an inspector would look for it.
    await page.click('.chip[data-state="accepted"]');
    const row = page.locator('[role="option"]');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.getAttribute('data-id')).toBe(editedId);
    expect(await row.getAttribute('data-state')).toBe('accepted');
    await row.click();
    await mapShown(editedId);
    expect(await page.getAttribute('[data-testid="review-state"]', 'data-state')).toBe('accepted');
    expect(await area()).toBe(editedArea);
    expect(await page.inputValue('[data-testid="threshold-value"]')).toBe('0.95');
    await page.click('.chip[data-state="all"]');
  });

  it('exports the accepted image as COCO, with the mask as reviewed', async () => {
    const outDir = join(work, 'export');
    await page.getByTestId('open-export').click();
    await page.selectOption('[data-testid="export-format"]', 'coco');
    await page.fill('[data-testid="export-dir"]', outDir);
    await page.getByTestId('export-start').click();
    await page.waitForSelector('[data-testid="export-status"][data-state="done"]', { timeout: MAP_TIMEOUT });
    await shot('06-export');
    await page.keyboard.press('Escape');

    const coco = JSON.parse(await readFile(join(outDir, COCO_ANNOTATION_FILE), 'utf8')) as {
      images: { id: number; file_name: string; width: number; height: number }[];
      annotations: { image_id: number; category_id: number; area: number; bbox: number[] }[];
      categories: { id: number; name: string }[];
    };
    expect(coco.images).toHaveLength(1);
    expect(editedId.endsWith(coco.images[0].file_name) || coco.images[0].file_name.endsWith(editedId.split('/').at(-1)!)).toBe(true);
    expect(coco.annotations.length).toBeGreaterThan(0);
    const annotation = coco.annotations[0];
    expect(annotation.image_id).toBe(coco.images[0].id);
    expect(coco.categories.map((c) => c.id)).toContain(annotation.category_id);
    expect(annotation.area).toBeGreaterThan(0);
    expect(annotation.bbox[0] + annotation.bbox[2]).toBeLessThanOrEqual(coco.images[0].width);

    const imported = importCoco(await readFile(join(outDir, COCO_ANNOTATION_FILE)));
    const stored = await kizu.call('getReview', { id: editedId });
    const binary = { ...imported.items[0].mask, data: imported.items[0].mask.data.map((v) => (v ? 1 : 0)) };
    expect(maskIoU(binary, stored.mask!)).toBeGreaterThan(0.98);
  });

  it('answers the keyboard: help, navigation, review, side by side, zoom', async () => {
    await page.keyboard.press('?');
    await page.getByTestId('help-overlay').waitFor();
    expect(await page.getByTestId('help-overlay').textContent()).toContain('Ctrl+Shift+Z');
    await shot('07-help');
    await page.keyboard.press('Escape');
    await page.getByTestId('help-overlay').waitFor({ state: 'detached' });

    const start = await currentId();
    await page.keyboard.press('ArrowRight');
    await movedOn(start);
    await page.keyboard.press('ArrowLeft');
    await page.waitForSelector(`[role="option"][aria-selected="true"][data-id=${q(start)}]`);
    await mapShown(start);

    await page.keyboard.press('o');
    await movedOn(start);
    const next = await currentId();
    await mapShown(next);
    await page.keyboard.press('r');
    await movedOn(next);
    await chipCount('ok', 1);
    await chipCount('rejected', 1);
    // The gallery updates at once; the back end has it when the save lands, a moment later.
    const stateOf = async (id: string) => (await kizu.call('listImages', {})).find((e) => e.id === id)?.state;
    await expect.poll(() => stateOf(start), { timeout: 10_000 }).toBe('ok');
    await expect.poll(() => stateOf(next), { timeout: 10_000 }).toBe('rejected');
    const entries = await kizu.call('listImages', {});
    const reviewed = entries.filter((e) => e.state !== 'unreviewed').length;
    expect(reviewed).toBeGreaterThanOrEqual(2);
    expect(await page.getByTestId('reviewed-count').textContent()).toBe(`${reviewed} / ${entries.length} reviewed`);

    const now = await currentId();
    await mapShown(now);
    await page.keyboard.press('s');
    for (const layer of ['layer2', 'layer3', 'layer4', 'fused']) await page.waitForSelector(`.map-canvas[data-layer="${layer}"][data-map-ready=${q(now)}]`);
    await shot('08-side-by-side');
    await page.keyboard.press('s');

    const zoom = async () => Number(await page.getAttribute('.map-canvas', 'data-zoom'));
    await mapShown(now);
    const fitted = await zoom();
    await page.keyboard.press('+');
    expect(await zoom()).toBeCloseTo(fitted * 1.25, 2);
    const box = (await page.locator('.map-canvas canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -500);
    await page.waitForFunction((z) => Number(document.querySelector('.map-canvas')?.getAttribute('data-zoom')) > z, fitted * 1.3);
    await shot('09-zoomed');
    await page.keyboard.press('0');
    expect(await zoom()).toBeCloseTo(fitted, 3);
  });

  it('looks right in the dark theme', async () => {
    await page.selectOption('[data-testid="theme"]', 'dark');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    await shot('10-dark-theme');
  });

  it('speaks Japanese when the system does: the main views in Japanese, and a switch that is remembered', async () => {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'ja-JP' });
    const jp = await context.newPage();
    jp.on('pageerror', (err) => pageErrors.push(err.message));
    const jaShot = (name: string) => jp.screenshot({ path: join(SHOTS, `ja-${name}.png`) });
    await jp.goto(kizu.url);
    await jp.waitForFunction(() => document.documentElement.lang === 'ja');
    await jp.waitForFunction((m) => document.querySelector('[data-testid="status-model"]')?.textContent === m, ja.status.model('weights'));
    await jp.waitForSelector('[role="option"]', { timeout: MAP_TIMEOUT });
    // Accept the first image from the keyboard, then show it: the badges and the review panel have their words.
    const first = await selectedId(jp);
    await shownOn(jp, first);
    await jp.keyboard.press('a');
    await movedOnFrom(jp, first);
    await jp.click('.chip[data-state="accepted"]');
    await jp.locator('[role="option"]').first().click();
    const id = await selectedId(jp);
    await jp.click('.chip[data-state="all"]');
    await shownOn(jp, id);
    expect(await jp.getByTestId('reviewed-count').textContent()).toMatch(/^\d+ \/ \d+ 枚 確認済み$/);
    expect(await jp.getByTestId('component-count').textContent()).toMatch(/^欠陥領域 \d+ 個$/);
    expect(await untranslated(jp)).toEqual([]);
    console.log(`Latin words on the Japanese main view: ${(await latinWords(jp)).join(' ')}`);
    expect(await overflowing(jp)).toEqual([]);
    await jaShot('02-main-view');

    await jp.keyboard.press('s');
    for (const layer of ['layer2', 'layer3', 'layer4', 'fused']) await jp.waitForSelector(`.map-canvas[data-layer="${layer}"][data-map-ready=${q(id)}]`, { timeout: MAP_TIMEOUT });
    expect(await untranslated(jp)).toEqual([]);
    await jaShot('08-side-by-side');
    await jp.keyboard.press('s');

    await jp.keyboard.press('?');
    await jp.getByTestId('help-overlay').waitFor();
    expect(await jp.getByTestId('help-overlay').textContent()).toContain(ja.help.title);
    expect(await untranslated(jp)).toEqual([]);
    expect(await overflowing(jp)).toEqual([]);
    await jaShot('07-help');
    await jp.keyboard.press('Escape');

    await jp.getByTestId('open-export').click();
    await jp.selectOption('[data-testid="export-format"]', 'coco');
    await jp.fill('[data-testid="export-dir"]', join(work, 'export-ja'));
    await jp.getByTestId('export-start').click();
    await jp.waitForSelector('[data-testid="export-status"][data-state="done"]', { timeout: MAP_TIMEOUT });
    expect(await untranslated(jp)).toEqual([]);
    expect(await overflowing(jp)).toEqual([]);
    await jaShot('06-export');
    await jp.keyboard.press('Escape');

    await jp.getByTestId('open-training').click();
    await jp.getByTestId('training-panel').waitFor();
    expect(await untranslated(jp)).toEqual([]);
    expect(await overflowing(jp)).toEqual([]);
    await jaShot('11-training');
    await jp.keyboard.press('Escape');
    await jp.getByTestId('training-panel').waitFor({ state: 'detached' });

    // Back to English from the status bar: every string at once, and still English after a reload.
    await jp.selectOption('[data-testid="language"]', 'en');
    await jp.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await jp.getByTestId('status-model').textContent()).toBe('Model: weights');
    expect(await jp.getByTestId('reviewed-count').textContent()).toMatch(/reviewed$/);
    await jp.reload();
    await jp.waitForFunction(() => document.querySelector('[data-testid="status-model"]')?.textContent === 'Model: weights');
    expect(await jp.evaluate(() => document.documentElement.lang)).toBe('en');
    await jp.selectOption('[data-testid="language"]', 'ja');
    await jp.waitForFunction((m) => document.querySelector('[data-testid="status-model"]')?.textContent === m, ja.status.model('weights'));

    // The empty state of a later launch, in Japanese.
    const empty = await context.newPage();
    await empty.addInitScript(() => localStorage.removeItem('kizu.lastProject'));
    await empty.goto(kizu.url);
    await empty.getByTestId('empty-state').waitFor();
    expect(await empty.getByTestId('empty-state').textContent()).toContain(ja.empty.body);
    expect(await untranslated(empty)).toEqual([]);
    await empty.screenshot({ path: join(SHOTS, 'ja-01-empty-state.png') });
    await context.close();
  });

  it('trains a model with a live curve, cancels it, and switches to what it learnt', async () => {
    const dataset = (await page.getAttribute('[data-testid="project-root"]', 'title'))!;
    await page.getByTestId('open-training').click();
    await page.getByTestId('train-source-folder').check();
    await page.fill('#train-data', dataset);
    await page.fill('#train-out', join(work, 'trained'));
    expect(await page.getByTestId('training-estimate').textContent()).toMatch(/^Ends by \d\d:\d\d:\d\d: .* 45 min/);
    await page.selectOption('#train-length', 'epochs');
    await page.fill('#train-epochs', '3');
    expect(await page.getByTestId('training-estimate').textContent()).toMatch(/time left shows/);
    await page.locator('[data-testid="training-advanced"] summary').click();
    await page.fill('#train-batch', '4');
    await page.fill('#train-size', '32');
    await page.getByTestId('training-start').click();
    // Two points on the curve: the chart is live, the ETA is known.
    await page.waitForFunction(() => /step [2-9]\d* \//.test(document.querySelector('[data-testid="training-status"]')?.textContent ?? ''), undefined, { timeout: MAP_TIMEOUT });
    expect(await page.getByTestId('training-status').textContent()).toMatch(/left/);
    await page.getByTestId('training-chart').locator('canvas').waitFor();
    await shot('11-training');
    await page.getByTestId('training-cancel').click();
    await page.waitForSelector('[data-testid="training-status"][data-state="cancelled"]', { timeout: MAP_TIMEOUT });
    const explainsBefore = explainCount;
    await page.getByTestId('training-use').click();
    await page.waitForFunction(() => /^Model: kizu-resnet50/.test(document.querySelector('[data-testid="status-model"]')?.textContent ?? ''), undefined, { timeout: MAP_TIMEOUT });
    await page.keyboard.press('Escape');
    // The maps of the old model are dropped: the image on screen is explained again.
    await expect.poll(() => explainCount, { timeout: MAP_TIMEOUT }).toBeGreaterThan(explainsBefore);
    await mapShown(await currentId());
  });

  it('raised no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
