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

/** Folder names that hold the OK images of a folder-per-defect-kind dataset. */
const OK_FOLDER_NAMES = new Set(['ok', 'good', 'normal']);

export interface FolderMeaning { isDefect: boolean; kind?: string }

/**
 * What each folder of a folder-per-label dataset means. A `defectLabel` present among the folders
 * keeps the plain meaning (that folder is defect, the rest OK). Otherwise, when there is an OK
 * folder (`okLabel`, or one named ok, good or normal), every other folder is a defect kind named
 * after it (a generic name such as defect or NG is defective without a kind). Without either,
 * labelMeaning decides, and unknown names stay unknown.
 */
export function folderMeaning(folders: readonly string[], opts: { defectLabel?: string; okLabel?: string } = {}): (folder: string) => FolderMeaning | undefined {
  const lower = (s: string) => s.toLowerCase();
  const present = new Set(folders.map(lower));
  if (opts.okLabel !== undefined && !present.has(lower(opts.okLabel))) {
    throw new Error(`no folder '${opts.okLabel}' for the OK images (folders found: ${[...present].sort().join(', ') || 'none'}); name the OK folder (--ok-label)`);
  }
  const wantedDefect = opts.defectLabel === undefined ? undefined : lower(opts.defectLabel);
  const ok = opts.okLabel !== undefined ? lower(opts.okLabel)
    : wantedDefect !== undefined && present.has(wantedDefect) ? undefined
      : [...present].find((f) => OK_FOLDER_NAMES.has(f));
  if (ok === undefined) {
    const plain = labelMeaning(folders, opts.defectLabel);
    return (folder) => {
      const isDefect = plain(folder);
      return isDefect === undefined ? undefined : { isDefect };
    };
  }
  return (folder) => {
    const f = lower(folder);
    if (f === ok || (opts.okLabel === undefined && OK_NAMES.has(f))) return { isDefect: false };
    return DEFECT_NAMES.has(f) || f === wantedDefect ? { isDefect: true } : { isDefect: true, kind: folder };
  };
}

/** Whether a folder name says OK or defect by itself, or is the label the user named. */
export function isLabelName(name: string, opts: { defectLabel?: string; okLabel?: string } = {}): boolean {
  const n = name.toLowerCase();
  return DEFECT_NAMES.has(n) || OK_NAMES.has(n) || n === opts.defectLabel?.toLowerCase() || n === opts.okLabel?.toLowerCase();
}
