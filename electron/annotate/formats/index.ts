import type { ExportFiles, ExportItem, ImportResult } from '../types.ts';
import { COCO_ANNOTATION_FILE, exportCoco, importCoco, type CocoExportOptions } from './coco.ts';
import { exportLabelme, importLabelme, type LabelmeExportOptions } from './labelme.ts';
import { exportPngMasks, importPngMasks } from './png.ts';
import { exportVoc, importVoc, type VocExportOptions } from './voc.ts';
import { exportYolo, importYolo, type YoloExportOptions } from './yolo.ts';

export const EXPORT_FORMATS = ['coco', 'coco-rle', 'voc', 'yolo', 'labelme', 'png', 'png-instance'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export type AnyExportOptions = CocoExportOptions & LabelmeExportOptions & YoloExportOptions & VocExportOptions;

/** The files of an export, by path relative to the output folder. */
export function exportAnnotations(format: ExportFormat, items: Iterable<ExportItem>, options: AnyExportOptions = {}): ExportFiles {
  switch (format) {
    case 'coco':
      return exportCoco(items, { ...options, segmentation: 'polygon' });
    case 'coco-rle':
      return exportCoco(items, { ...options, segmentation: 'rle' });
    case 'voc':
      return exportVoc(items, options);
    case 'yolo':
      return exportYolo(items, options);
    case 'labelme':
      return exportLabelme(items, options);
    case 'png':
      return exportPngMasks(items, { ...options, instances: false });
    case 'png-instance':
      return exportPngMasks(items, { ...options, instances: true });
  }
}

export interface ImportOptions {
  /** YOLO only: each label file's image size (and name), by the image's path without extension (see YoloImportOptions). */
  images?: Record<string, { width: number; height: number; fileName?: string }>;
}

/** Masks read back from an export's files (relative path -> content). */
export function importAnnotations(
  format: ExportFormat,
  files: Record<string, Uint8Array | string>,
  options: ImportOptions = {},
): ImportResult {
  switch (format) {
    case 'coco':
    case 'coco-rle': {
      const jsons = Object.keys(files).filter((p) => p.toLowerCase().endsWith('.json'));
      const file = files[COCO_ANNOTATION_FILE] !== undefined ? COCO_ANNOTATION_FILE : jsons.length === 1 ? jsons[0] : undefined;
      if (file === undefined) {
        throw new Error(`coco import: expected ${COCO_ANNOTATION_FILE} or a single .json file, found ${jsons.length}`);
      }
      return importCoco(files[file], file);
    }
    case 'voc':
      return importVoc(files);
    case 'yolo':
      if (!options.images) throw new Error('yolo import: image sizes are needed (labels are normalised)');
      return importYolo(files, { images: options.images });
    case 'labelme':
      return importLabelme(files);
    case 'png':
    case 'png-instance':
      return importPngMasks(files);
  }
}
