import { createMask } from '../mask.ts';
import { decodeLabelPng, encodeGreyPng } from '../png-codec.ts';
import type { ExportFiles, ExportItem, ExportOptions, ImportedItem, ImportResult } from '../types.ts';
import { bytesOf, categoriesOf, prepareItems, sortItems } from './common.ts';

/*
 * Plain PNG masks, <stem>.png per image, in the image's subfolders (masks/Class1/Test/0000.png):
 * masks/ holds 0/255 greyscale (any defect is 255), instances/ holds each region's 1-based
 * index (8-bit, or 16-bit past 255 regions).
 */

export const PNG_MASK_DIR = 'masks';
export const PNG_INSTANCE_DIR = 'instances';
/** A mask's path: its folder, then the image's path without extension. */
export const PNG_MASK_PATH = new RegExp(`^(${PNG_MASK_DIR}|${PNG_INSTANCE_DIR})/(.+)\\.png$`, 'i');

export interface PngExportOptions extends ExportOptions {
  /** Write region indices to instances/ instead of 0/255 to masks/. */
  instances?: boolean;
}

export function exportPngMasks(items: Iterable<ExportItem>, options: PngExportOptions = {}): ExportFiles {
  const files: ExportFiles = {};
  for (const p of prepareItems(items, categoriesOf(options))) {
    const { width: w, height: h } = p.item;
    if (options.instances) {
      const values = p.instances.length > 255 ? new Uint16Array(w * h) : new Uint8Array(w * h);
      for (let i = 0; i < values.length; i++) values[i] = p.labelling.labels[i];
      files[`${PNG_INSTANCE_DIR}/${p.stem}.png`] = encodeGreyPng(w, h, values);
    } else {
      const values = new Uint8Array(w * h);
      for (let i = 0; i < values.length; i++) values[i] = p.item.mask.data[i] !== 0 ? 255 : 0;
      files[`${PNG_MASK_DIR}/${p.stem}.png`] = encodeGreyPng(w, h, values);
    }
  }
  return files;
}

/**
 * Binary masks from PNGs under masks/ or instances/ (relative path -> bytes): every nonzero
 * pixel is a defect of the one category. Items are named by the PNGs' paths there without
 * ".png" ("Class1/Test/0000"), as the masks do not record their image's extension.
 */
export function importPngMasks(files: Record<string, Uint8Array | string>, category = 'defect'): ImportResult {
  const items: ImportedItem[] = [];
  for (const path of Object.keys(files).sort()) {
    const m = PNG_MASK_PATH.exec(path);
    if (!m) continue;
    const png = decodeLabelPng(bytesOf(files[path], path), path);
    const mask = createMask(png.width, png.height, path);
    for (let i = 0; i < png.values.length; i++) mask.data[i] = png.values[i] !== 0 ? 1 : 0;
    items.push({ fileName: m[2], width: png.width, height: png.height, mask });
  }
  return { categories: [category], items: sortItems(items) };
}
