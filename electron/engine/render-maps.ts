import type { RasterImage } from '../data/image-io.ts';
import { applyColormap, blendOverlay, type ColormapName } from '../annotate/colormap.ts';
import type { Map2D } from './explain.ts';

/** The image as 8-bit RGB for display: grey replicated, 16-bit scaled down. */
export function displayRgb(image: RasterImage): Uint8Array {
  const out = new Uint8Array(image.width * image.height * 3);
  for (let i = 0, n = image.width * image.height; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const v = image.data[i * image.channels + (image.channels === 1 ? 0 : c)];
      out[i * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return out;
}

export interface RenderedMap {
  heatmap: Uint8Array;
  overlay: Uint8Array;
}

/** Heatmap and overlay (RGB bytes at the image's size) for one normalised map. */
export function renderMap(image: RasterImage, map: Map2D, colormap: ColormapName = 'turbo', opacity = 0.45): RenderedMap {
  if (map.width !== image.width || map.height !== image.height) {
    throw new Error(`map is ${map.width}x${map.height} but the image is ${image.width}x${image.height}`);
  }
  const heatmap = applyColormap(map.data, colormap);
  return { heatmap, overlay: blendOverlay(displayRgb(image), heatmap, opacity) };
}
