import { openDataset } from '../datasets.ts';
import { readImage } from '../image-io.ts';
import { naiveDetector, separability, type DetectorResult, type HardnessImage } from './hardness.ts';

export interface HardnessReport {
  images: number;
  defective: number;
  /** Share of defect pixels (exact masks) in the split: predicting nothing scores mIoU 0.5 - this/2. */
  defectFraction: number;
  meanAuroc: number;
  stdAuroc: number;
  /** Naive local-median detector at its best k, against the exact masks and the weak (ellipse) labels. */
  exact: DetectorResult[];
  weak: DetectorResult[];
}

async function greyBytes(path: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const img = await readImage(path);
  const data = new Uint8Array(img.width * img.height);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(img.data[i * img.channels] * 255);
  return { data, width: img.width, height: img.height };
}

/** How far a split of a DAGM-layout dataset is from being solved by brightness alone. */
export async function datasetHardness(root: string, split: 'train' | 'test' = 'test', radii = [3, 7, 15]): Promise<HardnessReport> {
  const items = (await openDataset(root)).items.filter((i) => i.split === split);
  if (items.length === 0) throw new Error(`${root}: no ${split} images`);
  const images: HardnessImage[] = [];
  let defectPixels = 0, pixels = 0;
  for (const item of items) {
    const img = await greyBytes(item.path);
    const blank = new Uint8Array(img.data.length);
    const truthOf = async (p: string | undefined) => (item.isDefect && p ? (await greyBytes(p)).data : blank);
    const exactTruth = await truthOf(item.exactMaskPath ?? item.maskPath), weakTruth = await truthOf(item.maskPath);
    images.push({ image: img.data, width: img.width, height: img.height, isDefect: item.isDefect, truths: [exactTruth, weakTruth] });
    for (const v of exactTruth) if (v) defectPixels++;
    pixels += img.data.length;
  }
  const detectors = radii.map((r) => naiveDetector(images, r));
  return {
    images: items.length, defective: items.filter((i) => i.isDefect).length, defectFraction: defectPixels / pixels,
    meanAuroc: separability(images, 'mean'), stdAuroc: separability(images, 'std'),
    exact: detectors.map(([exact]) => exact), weak: detectors.map(([, weak]) => weak),
  };
}
