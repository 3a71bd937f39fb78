import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { createMask } from '../mask.ts';
import { decodeLabelPng, encodeIndexedPng, vocColourMap } from '../png-codec.ts';
import type { ExportFiles, ExportItem, ExportOptions, ImportedItem, ImportResult } from '../types.ts';
import { bytesOf, categoriesOf, CategoryTable, folderOf, prepareItems, sortItems, textOf } from './common.ts';

/*
 * Pascal VOC, as the devkit and Datumaro/CVAT lay it out: Annotations/<stem>.xml (boxes in
 * 1-based inclusive pixel coordinates), SegmentationClass/ and SegmentationObject/ indexed
 * PNGs in the VOC palette (index 255 is "void", not a class), ImageSets/{Main,Segmentation}/
 * <subset>.txt, and labelmap.txt naming our classes, which are not VOC's twenty.
 * Object k in the XML is index k in SegmentationObject, as in VOC.
 * An image's id is its path without extension ("Class1/Test/0000"), so each per-image file
 * mirrors the image's subfolders, as Datumaro writes ids with folders; <filename> holds the
 * image's whole relative path.
 */

const VOC_VOID = 255;
const VOC_CLASSES = [
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
];

export interface VocExportOptions extends ExportOptions {
  /** ImageSets list name. Default "default" (what CVAT and Datumaro write). */
  subset?: string;
}

export function exportVoc(items: Iterable<ExportItem>, options: VocExportOptions = {}): ExportFiles {
  const categories = categoriesOf(options);
  const subset = options.subset ?? 'default';
  if (!/^[\w.-]+$/.test(subset)) throw new Error(`voc export: subset "${subset}" must be a plain file name`);
  const palette = vocColourMap(256);
  const builder = new XMLBuilder({ format: true, indentBy: '  ' });
  const files: ExportFiles = {};
  const stems: string[] = [];
  for (const p of prepareItems(items, categories)) {
    const { width: w, height: h } = p.item;
    if (p.instances.length >= VOC_VOID) {
      throw new Error(`voc export: "${p.item.fileName}" has ${p.instances.length} regions; SegmentationObject holds at most 254`);
    }
    stems.push(p.stem);
    const objects = p.instances.map((inst) => {
      const b = inst.component.bbox;
      const touches = b.x === 0 || b.y === 0 || b.x + b.width === w || b.y + b.height === h;
      return {
        name: inst.categoryName,
        pose: 'Unspecified',
        truncated: touches ? 1 : 0,
        difficult: 0,
        bndbox: { xmin: b.x + 1, ymin: b.y + 1, xmax: b.x + b.width, ymax: b.y + b.height },
      };
    });
    const xml = builder.build({
      annotation: {
        folder: 'VOC',
        filename: p.path,
        source: { database: 'Kizu' },
        size: { width: w, height: h, depth: p.item.channels ?? 3 },
        segmented: 1,
        object: objects,
      },
    });
    files[`Annotations/${p.stem}.xml`] = xml;
    files[`SegmentationClass/${p.stem}.png`] = encodeIndexedPng(w, h, p.item.mask.data, palette);
    const objectIndex = new Uint8Array(w * h);
    for (let i = 0; i < objectIndex.length; i++) objectIndex[i] = p.labelling.labels[i];
    files[`SegmentationObject/${p.stem}.png`] = encodeIndexedPng(w, h, objectIndex, palette);
    if (p.item.image) files[`JPEGImages/${p.path}`] = p.item.image;
  }
  const list = stems.length > 0 ? `${stems.join('\n')}\n` : '';
  files[`ImageSets/Main/${subset}.txt`] = list;
  files[`ImageSets/Segmentation/${subset}.txt`] = list;
  const labelmap = ['# label:color_rgb:parts:actions', 'background:0,0,0::'];
  categories.forEach((name, i) => labelmap.push(`${name}:${palette[i + 1].join(',')}::`));
  files['labelmap.txt'] = `${labelmap.join('\n')}\n`;
  return files;
}

/**
 * Masks from a VOC folder (relative path -> content): SegmentationClass PNGs, or where an
 * image has none, its SegmentationObject PNG with each object's class from the XML. Void
 * (255) reads as background. Class names come from labelmap.txt, else VOC's own. An item is
 * named by the XML's <filename>, read in the id's folder when it names no folder itself (VOC's
 * own files hold a bare name), else by its id.
 */
export function importVoc(files: Record<string, Uint8Array | string>): ImportResult {
  const names = files['labelmap.txt'] !== undefined ? labelmapNames(textOf(files['labelmap.txt'], 'labelmap.txt')) : VOC_CLASSES;
  const table = new CategoryTable(names.slice(1));
  const parser = new XMLParser({ isArray: (name) => name === 'object', parseTagValue: false });
  const items: ImportedItem[] = [];
  const stems = new Set<string>();
  for (const path of Object.keys(files)) {
    const m = /^(SegmentationClass|SegmentationObject)\/(.+)\.png$/i.exec(path);
    if (m) stems.add(m[2]);
  }
  for (const stem of [...stems].sort()) {
    const xmlPath = `Annotations/${stem}.xml`;
    const xml = files[xmlPath] !== undefined ? parseVocXml(parser, textOf(files[xmlPath], xmlPath), xmlPath) : undefined;
    const classPath = `SegmentationClass/${stem}.png`;
    const objectPath = `SegmentationObject/${stem}.png`;
    let width: number;
    let height: number;
    let mask;
    if (files[classPath] !== undefined) {
      const png = decodeLabelPng(bytesOf(files[classPath], classPath), classPath, vocColourMap(256));
      ({ width, height } = png);
      mask = createMask(width, height, classPath);
      for (let i = 0; i < png.values.length; i++) {
        const v = png.values[i];
        if (v === VOC_VOID || v === 0) continue;
        if (v >= names.length) throw new Error(`${classPath}: class index ${v} at pixel ${i % width},${Math.floor(i / width)} has no name`);
        mask.data[i] = v;
      }
    } else {
      if (!xml) throw new Error(`${objectPath}: no ${xmlPath} to name its objects' classes`);
      const png = decodeLabelPng(bytesOf(files[objectPath], objectPath), objectPath, vocColourMap(256));
      ({ width, height } = png);
      mask = createMask(width, height, objectPath);
      const valueOfObject = xml.objects.map((name) => table.valueOf(name));
      for (let i = 0; i < png.values.length; i++) {
        const k = png.values[i];
        if (k === VOC_VOID || k === 0) continue;
        const value = valueOfObject[k - 1];
        if (value === undefined) throw new Error(`${objectPath}: object index ${k} but ${xmlPath} lists ${xml.objects.length} objects`);
        mask.data[i] = value;
      }
    }
    if (xml && (xml.width !== width || xml.height !== height)) {
      throw new Error(`${xmlPath}: size ${xml.width}x${xml.height} does not match the ${width}x${height} segmentation PNG`);
    }
    items.push({ fileName: xml?.filename === undefined ? stem : imageNameOf(stem, xml.filename), width, height, mask });
  }
  return { categories: table.names, items: sortItems(items) };
}

function imageNameOf(id: string, filename: string): string {
  const name = filename.replace(/\\/g, '/');
  return name.includes('/') ? name : folderOf(id) + name;
}

/** Class names in index order from a Datumaro/CVAT labelmap.txt ("name:r,g,b:parts:actions"). */
function labelmapNames(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    names.push(t.split(':')[0]);
  }
  if (names[0] !== 'background') names.unshift('background');
  return names;
}

interface VocXml {
  filename?: string;
  width: number;
  height: number;
  objects: string[];
}

function parseVocXml(parser: XMLParser, text: string, path: string): VocXml {
  let doc: { annotation?: { filename?: unknown; size?: { width?: unknown; height?: unknown }; object?: Array<{ name?: unknown }> } };
  try {
    doc = parser.parse(text, true);
  } catch (err) {
    throw new Error(`${path}: invalid XML (${err instanceof Error ? err.message : String(err)})`);
  }
  const a = doc.annotation;
  if (!a) throw new Error(`${path}: no <annotation> element`);
  const width = Number(a.size?.width);
  const height = Number(a.size?.height);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${path}: <size> needs positive integer <width> and <height>`);
  }
  const objects = (a.object ?? []).map((o, k) => {
    if (typeof o.name !== 'string' || o.name === '') throw new Error(`${path}: object ${k + 1} has no <name>`);
    return o.name;
  });
  return { filename: typeof a.filename === 'string' ? a.filename : undefined, width, height, objects };
}
