/** Screen = image * scale + offset, in CSS pixels of the viewer's canvas. */
export interface ViewTransform {
  scale: number;
  x: number;
  y: number;
}

export const MIN_SCALE = 0.02;
export const MAX_SCALE = 64;

/** The transform that shows the whole image centred in the view, with a margin. */
export function fitTransform(imageWidth: number, imageHeight: number, viewWidth: number, viewHeight: number, margin = 12): ViewTransform {
  const availW = Math.max(1, viewWidth - 2 * margin);
  const availH = Math.max(1, viewHeight - 2 * margin);
  const scale = clampScale(Math.min(availW / imageWidth, availH / imageHeight));
  return {
    scale,
    x: (viewWidth - imageWidth * scale) / 2,
    y: (viewHeight - imageHeight * scale) / 2,
  };
}

export function clampScale(scale: number): number {
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
}

/** Zooms by `factor` keeping the image point under (cx, cy) where it is on screen. */
export function zoomAbout(t: ViewTransform, factor: number, cx: number, cy: number): ViewTransform {
  const scale = clampScale(t.scale * factor);
  const k = scale / t.scale;
  return { scale, x: cx - (cx - t.x) * k, y: cy - (cy - t.y) * k };
}

export function panBy(t: ViewTransform, dx: number, dy: number): ViewTransform {
  return { scale: t.scale, x: t.x + dx, y: t.y + dy };
}

export function screenToImage(t: ViewTransform, sx: number, sy: number): { x: number; y: number } {
  return { x: (sx - t.x) / t.scale, y: (sy - t.y) / t.scale };
}

/** Wheel delta (pixels or lines) to a zoom factor: one notch of a mouse wheel is about 1.2x. */
export function wheelZoomFactor(deltaY: number, deltaMode: number): number {
  const pixels = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.exp(-pixels * 0.0018);
}
