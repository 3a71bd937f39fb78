/**
 * Images grouped by the view they show (DatasetItem.view); an image without a view is a group
 * of its own, under `ownKey`.
 */
export function groupByView<T>(items: readonly T[], view: (item: T) => string | undefined, ownKey: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const v = view(item);
    const key = v !== undefined ? `view:${v}` : `image:${ownKey(item)}`;
    const members = groups.get(key);
    if (members) members.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** Whole groups, in the order given, to the first side until it holds `wanted` items; the rest to the other. */
export function takeWholeGroups<T>(groups: ReadonlyMap<string, T[]>, order: readonly string[], wanted: number): { taken: T[]; rest: T[] } {
  const taken: T[] = [];
  const rest: T[] = [];
  for (const key of order) (taken.length < wanted ? taken : rest).push(...groups.get(key)!);
  return { taken, rest };
}

/**
 * Names each image's view from its path relative to the dataset's root ('/' separators) by a
 * regular expression: its capture groups joined by '_', or the whole match where it has none.
 * Images the pattern does not match, and images that already name a view (a CSV's view column),
 * keep theirs. Throws where the pattern is not a regular expression or matches no image at all,
 * since a pattern that names nothing would silently split by image.
 */
export function assignViews<T extends { view?: string }>(items: readonly T[], relativePath: (item: T) => string, pattern: string): void {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (err) {
    throw new Error(`--view-pattern "${pattern}" is not a regular expression: ${(err as Error).message}`);
  }
  let named = 0;
  for (const item of items) {
    if (item.view !== undefined) continue;
    const m = re.exec(relativePath(item));
    if (!m) continue;
    const groups = m.slice(1).filter((g): g is string => g !== undefined);
    item.view = groups.length > 0 ? groups.join('_') : m[0];
    named++;
  }
  if (named === 0 && !items.some((i) => i.view !== undefined)) {
    const example = items[0] ? ` (the first image's path is "${relativePath(items[0])}")` : '';
    throw new Error(`--view-pattern "${pattern}" matches none of the ${items.length} images' paths${example}`);
  }
}
