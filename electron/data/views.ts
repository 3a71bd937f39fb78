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
