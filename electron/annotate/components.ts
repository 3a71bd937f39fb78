import { assertMask, assertSameSize, assertScoreMap } from './mask.ts';
import { connectRuns, findRuns } from './runs.ts';
import type { Box, Mask, Point, ScoreMap } from './types.ts';

export interface Component {
  /** 1-based, in raster order of each component's first pixel. */
  label: number;
  /** The mask value of its pixels. */
  category: number;
  area: number;
  bbox: Box;
  /** Mean pixel position, pixel centres at integer coordinates (as scikit-image, OpenCV). */
  centroid: Point;
  /** Mean and maximum of the map over the component, when a map is given. */
  meanScore?: number;
  maxScore?: number;
}

export interface Labelling {
  width: number;
  height: number;
  /** Component label per pixel, 0 for background. */
  labels: Int32Array;
  components: Component[];
}

/** 8-connected components of equal nonzero mask values, with their statistics. */
export function labelComponents(mask: Mask, map?: ScoreMap): Labelling {
  assertMask(mask, 'labelComponents');
  if (map) {
    assertScoreMap(map, 'labelComponents map');
    assertSameSize(mask, map, 'labelComponents mask and map');
  }
  const { width: w, height: h, data } = mask;
  const labels = new Int32Array(w * h);
  const runs = findRuns(data, w, 0, 0, w, h, true);
  const root = connectRuns(runs, true);
  const labelOfRoot = new Int32Array(runs.count);
  const components: Component[] = [];
  const sums: Array<{ sx: number; sy: number; score: number }> = [];
  for (let i = 0; i < runs.count; i++) {
    const y = runs.row[i];
    const x0 = runs.start[i];
    const x1 = runs.end[i];
    const n = x1 - x0;
    let c: Component;
    let sum;
    if (root[i] === i) {
      labelOfRoot[i] = components.length + 1;
      c = {
        label: labelOfRoot[i],
        category: runs.value[i],
        area: 0,
        bbox: { x: x0, y, width: n, height: 1 },
        centroid: { x: 0, y: 0 },
      };
      if (map) c.maxScore = -Infinity;
      components.push(c);
      sum = { sx: 0, sy: 0, score: 0 };
      sums.push(sum);
    } else {
      c = components[labelOfRoot[root[i]] - 1];
      sum = sums[c.label - 1];
    }
    labels.fill(c.label, y * w + x0, y * w + x1);
    c.area += n;
    sum.sx += ((x0 + x1 - 1) * n) / 2;
    sum.sy += y * n;
    const b = c.bbox;
    const right = Math.max(b.x + b.width, x1);
    b.x = Math.min(b.x, x0);
    b.width = right - b.x;
    b.height = y - b.y + 1;
    if (map) {
      let max = c.maxScore as number;
      for (let k = y * w + x0; k < y * w + x1; k++) {
        const s = map.data[k];
        sum.score += s;
        if (s > max) max = s;
      }
      c.maxScore = max;
    }
  }
  components.forEach((c, k) => {
    c.centroid = { x: sums[k].sx / c.area, y: sums[k].sy / c.area };
    if (map) c.meanScore = sums[k].score / c.area;
  });
  return { width: w, height: h, labels, components };
}

/** The mask without the components smaller than minArea pixels. */
export function removeSmallComponents(mask: Mask, minArea: number): Mask {
  const { labels, components } = labelComponents(mask);
  const out = Uint8Array.from(mask.data);
  if (components.every((c) => c.area >= minArea)) return { width: mask.width, height: mask.height, data: out };
  const drop = new Uint8Array(components.length + 1);
  for (const c of components) drop[c.label] = c.area < minArea ? 1 : 0;
  for (let i = 0; i < out.length; i++) if (drop[labels[i]] === 1) out[i] = 0;
  return { width: mask.width, height: mask.height, data: out };
}

/** Binary mask (0/1) of one component. */
export function componentMask(labelling: Labelling, label: number): Mask {
  const { width, height, labels } = labelling;
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < out.length; i++) out[i] = labels[i] === label ? 1 : 0;
  return { width, height, data: out };
}
