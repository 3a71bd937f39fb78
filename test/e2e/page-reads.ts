import type { Page } from 'playwright-core';

/*
 * What the e2e tests read off the inspector's page: which image is on screen, when its map is
 * painted, and the mask's area, by the attributes the UI exposes for them.
 */

/** How long an image's map may take: the first explain on a cold engine compiles its graph. */
export const MAP_TIMEOUT = 180_000;

const SELECTED = '[role="option"][aria-selected="true"]';

/** The gallery id of the image on screen ('' before one is). */
export const selectedId = async (page: Page): Promise<string> => (await page.getAttribute(SELECTED, 'data-id')) ?? '';

/** Waits until the map of image `id` is painted on the canvas. */
export const mapShown = (page: Page, id: string) => page.waitForSelector(`.map-canvas[data-map-ready=${JSON.stringify(id)}]`, { timeout: MAP_TIMEOUT });

/** Waits until another image than `id` is on screen. */
export const movedOn = (page: Page, id: string) =>
  page.waitForFunction(([selector, old]) => document.querySelector(selector)?.getAttribute('data-id') !== old, [SELECTED, id] as const);

/** The mask's defect area in pixels, as the threshold panel states it. */
export const defectArea = async (page: Page): Promise<number> => Number(await page.getAttribute('[data-testid="defect-area"]', 'data-value'));
