/**
 * Shared shapes of the annotation layer. Everything here is plain data so the renderer can
 * run the very same functions as the export (DESIGN: a previewed mask is the exported one).
 */

/**
 * A label image, row-major. 0 is background; k >= 1 is category k (1-based index into the
 * category list of whoever made it). A thresholded map gives a binary mask (0/1).
 */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A map normalised to [0, 1], row-major, e.g. a LayerCAM map at image resolution. */
export interface ScoreMap {
  width: number;
  height: number;
  data: Float32Array;
}

/** A box in pixel-corner coordinates: pixels x..x+width-1, y..y+height-1 (COCO's [x,y,w,h]). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** A closed polygon without its closing vertex repeated. */
export type Ring = Point[];

/** A connected region's boundary: its outer ring and the rings of its holes. */
export interface RegionPolygon {
  outer: Ring;
  holes: Ring[];
}

/**
 * Where a traced polygon's vertices sit, chosen by the rasteriser that will read it back
 * (see RasterRule in rasterize.ts).
 * - 'corner': on pixel corners, around the pixels; pycocotools (COCO) fills the pixels
 *   whose centre (x + 0.5, y + 0.5) is inside.
 * - 'centre': on the centres of the boundary pixels, as OpenCV's findContours gives them;
 *   Pillow (LabelMe) and OpenCV (Ultralytics YOLO) sample pixel (x, y) at the point (x, y)
 *   and include the boundary.
 */
export type PixelConvention = 'corner' | 'centre';

/** One image to export. */
export interface ExportItem {
  /** The image's file name (or path relative to the image root), e.g. "0001.png". */
  fileName: string;
  width: number;
  height: number;
  mask: Mask;
  /** Image-level defect probability, used as the instances' score when no map is given. */
  score?: number;
  /** The map the mask came from: each instance's score is the map's maximum over it. */
  map?: ScoreMap;
  /** The encoded image file, for formats that carry or sit beside the image. */
  image?: Uint8Array;
  /** Colour channels of the image (VOC's <depth>); default 3. */
  channels?: number;
}

export interface ExportOptions {
  /** Category names; mask value k is categories[k - 1]. Default ["defect"]. */
  categories?: string[];
  /** Douglas-Peucker tolerance in pixels for polygon formats; default DEFAULT_TOLERANCE. */
  tolerance?: number;
}

/** Relative path (forward slashes) -> file content. */
export type ExportFiles = Record<string, Uint8Array | string>;

/** One image read back from an annotation set. */
export interface ImportedItem {
  fileName: string;
  width: number;
  height: number;
  /** Category indices into ImportResult.categories (1-based), 0 background. */
  mask: Mask;
}

export interface ImportResult {
  categories: string[];
  items: ImportedItem[];
}

export const DEFAULT_CATEGORIES: readonly string[] = ['defect'];
/**
 * Douglas-Peucker tolerances (pixels) that still redraw realistic masks pixel for pixel in
 * the tools' own rasterisers: corner polygons keep every pixel centre on its side up to
 * 0.5 px; centre polygons are drawn with their outline, whose line drawing loses a pixel
 * lying exactly 0.5 px off a simplified edge.
 */
export const DEFAULT_TOLERANCE: Readonly<Record<PixelConvention, number>> = { corner: 0.5, centre: 0.4 };
