/*
 * Connected components over row runs: a mask holds far fewer runs than pixels, so joining
 * runs that overlap between neighbouring rows (union-find) is much cheaper than a flood fill
 * pixel by pixel, which matters because the live preview relabels on every slider move.
 */

/** Horizontal runs of equal value, in raster order; `end` is exclusive. */
export interface Runs {
  count: number;
  row: Int32Array;
  start: Int32Array;
  end: Int32Array;
  value: Uint8Array;
  /** Index of each row's first run; firstOfRow[h] = count. */
  firstOfRow: Int32Array;
}

/**
 * Runs of the foreground (nonzero) or background (zero) pixels in the crop (x0, y0, w, h) of
 * a `stride`-wide image, split wherever the value changes; coordinates are relative to the
 * crop.
 */
export function findRuns(
  data: Uint8Array,
  stride: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  foreground: boolean,
): Runs {
  let cap = 64;
  let row: Int32Array = new Int32Array(cap);
  let start: Int32Array = new Int32Array(cap);
  let end: Int32Array = new Int32Array(cap);
  let value = new Uint8Array(cap);
  const firstOfRow = new Int32Array(h + 1);
  let count = 0;
  for (let y = 0; y < h; y++) {
    firstOfRow[y] = count;
    const base = (y + y0) * stride + x0;
    let x = 0;
    while (x < w) {
      const v = data[base + x];
      if ((v !== 0) !== foreground) {
        x++;
        continue;
      }
      const s = x;
      while (x < w && data[base + x] === v) x++;
      if (count === cap) {
        cap *= 2;
        row = grow(row, cap);
        start = grow(start, cap);
        end = grow(end, cap);
        const nv = new Uint8Array(cap);
        nv.set(value);
        value = nv;
      }
      row[count] = y;
      start[count] = s;
      end[count] = x;
      value[count] = v;
      count++;
    }
  }
  firstOfRow[h] = count;
  return { count, row, start, end, value, firstOfRow };
}

function grow(a: Int32Array, cap: number): Int32Array {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

/**
 * The root run of each run's component: runs of equal value in neighbouring rows join when
 * they overlap, or with `diagonal` also when they only touch at a corner (8-connectivity).
 * Every root is its component's first run in raster order.
 */
export function connectRuns(runs: Runs, diagonal: boolean): Int32Array {
  const parent = new Int32Array(runs.count);
  for (let i = 0; i < runs.count; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const reach = diagonal ? 1 : 0;
  const rows = runs.firstOfRow.length - 1;
  for (let y = 1; y < rows; y++) {
    let p = runs.firstOfRow[y - 1];
    const pEnd = runs.firstOfRow[y];
    for (let c = runs.firstOfRow[y]; c < runs.firstOfRow[y + 1]; c++) {
      while (p < pEnd && runs.end[p] + reach <= runs.start[c]) p++;
      for (let q = p; q < pEnd && runs.start[q] < runs.end[c] + reach; q++) {
        if (runs.value[q] !== runs.value[c]) continue;
        const a = find(q);
        const b = find(c);
        // Keep the earlier run as root, so roots are first runs in raster order.
        if (a < b) parent[b] = a;
        else if (b < a) parent[a] = b;
      }
    }
  }
  for (let i = 0; i < runs.count; i++) parent[i] = find(i);
  return parent;
}
