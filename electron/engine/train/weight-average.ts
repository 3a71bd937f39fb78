/**
 * The element-wise mean of several parameter vectors (the last epochs' ends of one run).
 * BatchNorm's running statistics are averaged with the weights: the epochs sit in one basin,
 * so their mean statistics describe the mean network about as well as recomputing them would,
 * and validation says whether that held. Sums in float64 so the order of epochs does not matter.
 */
export function averageWeights(snapshots: readonly Float32Array[]): Float32Array {
  if (snapshots.length === 0) throw new Error('averageWeights: no parameters to average');
  const size = snapshots[0].length;
  const sum = new Float64Array(size);
  for (const s of snapshots) {
    if (s.length !== size) throw new Error(`averageWeights: parameter vectors of ${size} and ${s.length} values`);
    for (let i = 0; i < size; i++) sum[i] += s[i];
  }
  return Float32Array.from(sum, (v) => v / snapshots.length);
}
