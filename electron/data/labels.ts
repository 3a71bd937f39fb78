/** Label names Kizu recognises without being told which label means "defect". */
const DEFECT_NAMES = new Set(['defect', 'defects', 'defective', 'ng', 'nok', 'bad', 'anomaly', 'anomalous', 'fail', 'reject', '1']);
const OK_NAMES = new Set(['ok', 'good', 'normal', 'pass', 'clean', 'nondefective', 'non-defective', 'non_defective', '0']);

/**
 * Decides which labels mean "defect". When `defectLabel` names a label present in the data,
 * that label is the defect and every other label is OK. Otherwise usual names are recognised
 * (defect/ng/bad... and ok/good/normal...) and any other label is unknown (undefined).
 * Comparison ignores case.
 */
export function labelMeaning(labels: Iterable<string>, defectLabel?: string): (label: string) => boolean | undefined {
  const present = new Set([...labels].map((l) => l.toLowerCase()));
  const wanted = defectLabel?.toLowerCase();
  if (wanted !== undefined && present.has(wanted)) return (label) => label.toLowerCase() === wanted;
  const recognised = [...present].some((l) => DEFECT_NAMES.has(l));
  if (wanted !== undefined && !recognised) {
    throw new Error(`no label '${defectLabel}' in the dataset (labels found: ${[...present].sort().join(', ') || 'none'}); name the defect label`);
  }
  return (label) => {
    const l = label.toLowerCase();
    return DEFECT_NAMES.has(l) ? true : OK_NAMES.has(l) ? false : undefined;
  };
}
