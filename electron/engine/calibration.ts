import { z } from 'zod';

/**
 * What makes a model's defect probability mean what it says, fitted on its validation split:
 * Platt scaling of the defect margin, p = sigmoid(slope * m + intercept), where
 * m = z_defect - logsumexp(z_other) is the logit the softmax's own defect probability is the
 * sigmoid of (slope 1, intercept 0 give back the softmax). Temperature scaling is the case
 * intercept 0, slope 1/T; the intercept is kept because an uncalibrated model is shifted as
 * well as over-confident (OK images scoring over 0.5), which no temperature corrects.
 */
export const calibrationSchema = z.object({
  method: z.literal('platt'),
  slope: z.number().finite(),
  intercept: z.number().finite(),
  /**
   * The default decision threshold on the calibrated probability: the one that maximises
   * balanced accuracy, (TPR + TNR) / 2, equivalently Youden's J, on the validation split.
   */
  decisionThreshold: z.number().min(0).max(1),
  criterion: z.literal('balanced-accuracy'),
  /** The validation images it was fitted on. */
  fittedOn: z.object({ ok: z.number().int().positive(), defect: z.number().int().positive() }),
  /** Balanced accuracy on those images at the decision threshold. */
  balancedAccuracy: z.number().min(0).max(1),
});
export type Calibration = z.infer<typeof calibrationSchema>;

/** The defect margin of one image's logits: the logit of the softmax's defect probability. */
export function defectMargin(logits: readonly number[], defectClass: number): number {
  const others = logits.filter((_, i) => i !== defectClass);
  const max = Math.max(...others);
  const lse = max + Math.log(others.reduce((s, v) => s + Math.exp(v - max), 0));
  return logits[defectClass] - lse;
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** The calibrated defect probability of one image's logits. */
export function calibratedProbability(logits: readonly number[], defectClass: number, c: Pick<Calibration, 'slope' | 'intercept'>): number {
  return sigmoid(c.slope * defectMargin(logits, defectClass) + c.intercept);
}

/** -log p, from the log-odds x, without overflow. */
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/**
 * Platt's fit: logistic regression of the labels on the margins by Newton's method with a
 * backtracking line search (Lin, Lin and Weng's note on Platt's method), and Platt's smoothed
 * targets ((N+ + 1)/(N+ + 2) and 1/(N- + 2)) so that a validation split the model separates
 * perfectly still gives finite parameters.
 */
export function fitPlatt(margins: readonly number[], labels: readonly boolean[]): { slope: number; intercept: number } {
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) throw new Error('fitPlatt: needs both OK and defective images');
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (negatives + 2);
  const target = (i: number) => (labels[i] ? hi : lo);
  const loss = (a: number, b: number) => {
    let sum = 0;
    for (let i = 0; i < margins.length; i++) {
      const x = a * margins[i] + b;
      sum += target(i) * softplus(-x) + (1 - target(i)) * softplus(x);
    }
    return sum;
  };
  let a = 1;
  let b = 0;
  let current = loss(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    for (let i = 0; i < margins.length; i++) {
      const p = sigmoid(a * margins[i] + b);
      const d = p - target(i);
      const w = Math.max(p * (1 - p), 1e-12);
      ga += d * margins[i];
      gb += d;
      haa += w * margins[i] * margins[i];
      hab += w * margins[i];
      hbb += w;
    }
    if (Math.abs(ga) < 1e-9 && Math.abs(gb) < 1e-9) break;
    // A whisker of ridge keeps the 2x2 Hessian invertible when every margin is the same.
    haa += 1e-9;
    hbb += 1e-9;
    const det = haa * hbb - hab * hab;
    const da = -(hbb * ga - hab * gb) / det;
    const db = -(haa * gb - hab * ga) / det;
    let step = 1;
    while (step > 1e-10 && loss(a + step * da, b + step * db) > current + 1e-4 * step * (ga * da + gb * db)) step /= 2;
    if (step <= 1e-10) break;
    a += step * da;
    b += step * db;
    current = loss(a, b);
    if (Math.abs(step * da) < 1e-10 && Math.abs(step * db) < 1e-10) break;
  }
  return { slope: a, intercept: b };
}

/**
 * The threshold on `scores` that maximises balanced accuracy, and that accuracy. Balanced
 * accuracy rather than plain accuracy: a validation split is mostly OK images, and plain
 * accuracy would buy a few more of them with many missed defects; the inspector needs both
 * error rates low. The threshold lies midway between the two scores it separates (an image
 * at or above it is called defective).
 */
export function balancedAccuracyThreshold(scores: readonly number[], labels: readonly boolean[]): { threshold: number; balancedAccuracy: number } {
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) throw new Error('balancedAccuracyThreshold: needs both OK and defective images');
  const order = scores.map((s, i) => ({ s, d: labels[i] })).sort((x, y) => x.s - y.s);
  // Calling everything defective (the threshold under the lowest score) is the baseline, 0.5.
  let best = { threshold: order[0].s / 2, balancedAccuracy: 0.5 };
  let belowPos = 0;
  let belowNeg = 0;
  for (let k = 0; k < order.length; k++) {
    if (order[k].d) belowPos++;
    else belowNeg++;
    // Only between two different scores can a threshold fall.
    if (k + 1 < order.length && order[k + 1].s === order[k].s) continue;
    const ba = 0.5 * ((positives - belowPos) / positives + belowNeg / negatives);
    if (ba > best.balancedAccuracy) {
      const above = k + 1 < order.length ? order[k + 1].s : 1;
      best = { threshold: (order[k].s + above) / 2, balancedAccuracy: ba };
    }
  }
  return best;
}

/**
 * Fits a model's calibration from its validation split's logits. Null where the split lacks OK
 * or defective images, or where the fitted slope is not positive: the model then ranks its
 * validation split no better than chance, and a calibration would have to turn its ranking
 * upside down; it keeps its softmax instead.
 */
export function fitCalibration(logits: readonly (readonly number[])[], labels: readonly boolean[], defectClass: number): Calibration | null {
  const defect = labels.filter(Boolean).length;
  const ok = labels.length - defect;
  if (defect === 0 || ok === 0) return null;
  const margins = logits.map((l) => defectMargin(l, defectClass));
  const fit = fitPlatt(margins, labels);
  if (!(fit.slope > 0)) return null;
  const probabilities = margins.map((m) => sigmoid(fit.slope * m + fit.intercept));
  const { threshold, balancedAccuracy } = balancedAccuracyThreshold(probabilities, labels);
  return { method: 'platt', ...fit, decisionThreshold: threshold, criterion: 'balanced-accuracy', fittedOn: { ok, defect }, balancedAccuracy };
}

/** Where a model without a calibration calls an image defective: its softmax's even odds. */
export const UNCALIBRATED_DECISION_THRESHOLD = 0.5;

/** What a score needs of a model (a Manifest is one). */
export interface ScoredModel {
  defectClass: number;
  calibration?: Calibration;
}

/** An image's defect probability: calibrated where the model has a calibration, else the softmax's. */
export function defectScore(logits: readonly number[], model: ScoredModel): { probability: number; calibrated: boolean } {
  if (model.calibration) return { probability: calibratedProbability(logits, model.defectClass, model.calibration), calibrated: true };
  return { probability: sigmoid(defectMargin(logits, model.defectClass)), calibrated: false };
}

/** The score at or above which an image is called defective by default. */
export function decisionThreshold(model: ScoredModel): number {
  return model.calibration?.decisionThreshold ?? UNCALIBRATED_DECISION_THRESHOLD;
}
