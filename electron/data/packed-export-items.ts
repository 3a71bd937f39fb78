import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ExportItem } from '../annotate/types.ts';

/**
 * Export items held deflated between being made and being written. An export writes only
 * once every image is done (so a cancelled one writes nothing), and a 512-px mask is 256 KiB
 * raw (its map 1 MiB) but about a kilobyte deflated: a batch of 10,000 images holds
 * megabytes until it writes instead of gigabytes, and the formats unpack one at a time.
 */
export interface PackedExportItem extends Omit<ExportItem, 'mask' | 'map'> {
  mask: { width: number; height: number; deflated: Uint8Array };
  /** The map where the mask is set, zero elsewhere: all an export reads of it (each region's maximum). */
  map?: { width: number; height: number; deflated: Uint8Array };
}

function deflate(data: ArrayBufferView): Uint8Array {
  return deflateRawSync(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), { level: 1 });
}

export function packExportItem(item: ExportItem): PackedExportItem {
  const { mask, map, ...rest } = item;
  const packed: PackedExportItem = { ...rest, mask: { width: mask.width, height: mask.height, deflated: deflate(mask.data) } };
  if (map) {
    const masked = new Float32Array(map.data.length);
    for (let i = 0; i < masked.length; i++) if (mask.data[i] !== 0) masked[i] = map.data[i];
    packed.map = { width: map.width, height: map.height, deflated: deflate(masked) };
  }
  return packed;
}

export function unpackExportItem(packed: PackedExportItem): ExportItem {
  const { mask, map, ...rest } = packed;
  const item: ExportItem = { ...rest, mask: { width: mask.width, height: mask.height, data: new Uint8Array(inflateRawSync(mask.deflated)) } };
  if (map) {
    // Copied into a fresh buffer: a Float32Array needs its start aligned, a Buffer's need not be.
    item.map = { width: map.width, height: map.height, data: new Float32Array(new Uint8Array(inflateRawSync(map.deflated)).buffer) };
  }
  return item;
}

/** The items unpacked as a format reads them, so only one is whole at a time. */
export function* unpackExportItems(items: Iterable<PackedExportItem>): Generator<ExportItem> {
  for (const item of items) yield unpackExportItem(item);
}

/** Bytes a packed item holds. */
export function packedBytes(item: PackedExportItem): number {
  return item.mask.deflated.byteLength + (item.map?.deflated.byteLength ?? 0) + (item.image?.byteLength ?? 0);
}
