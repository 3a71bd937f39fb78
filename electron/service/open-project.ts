import type { ImageEntry, ProjectInfo, ReviewState } from '../api.ts';
import { ProjectStore, type Sidecar, type StoreProblem } from '../data/project-store.ts';
import { ApiError } from './api-error.ts';
import type { ImageFile, ImageSet } from './image-folder.ts';
import { resolveInside } from './path-guard.ts';

interface Summary {
  state: ReviewState;
  score: number | null;
}

/** Sidecars read at once when a folder opens: enough to hide latency, few enough for file handles. */
const READ_CONCURRENCY = 32;

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(lanes);
}

/**
 * The folder (or set of images) being reviewed: its images by id, their review state and
 * score as the gallery lists them, the sidecar store, and every problem met reading it.
 * Images are reached only by id and only inside the folder (path-guard.ts).
 */
export class OpenProject {
  readonly store: ProjectStore;
  readonly problems: StoreProblem[] = [];
  private readonly byId: Map<string, ImageFile>;
  private readonly summaries = new Map<string, Summary>();

  private constructor(readonly set: ImageSet) {
    this.store = new ProjectStore(set.root);
    this.byId = new Map(set.images.map((i) => [i.id, i]));
  }

  static async open(set: ImageSet, log: (line: string) => void = () => undefined): Promise<OpenProject> {
    const project = new OpenProject(set);
    await eachLimited(set.images, READ_CONCURRENCY, async (image) => {
      const { sidecar, problem } = await project.store.read(image.id);
      project.record(sidecar);
      if (problem) project.report(problem, log);
    });
    return project;
  }

  get root(): string {
    return this.set.root;
  }

  info(): ProjectInfo {
    let reviewed = 0;
    for (const s of this.summaries.values()) if (s.state !== 'unreviewed') reviewed++;
    const info: ProjectInfo = { root: this.root, imageCount: this.set.images.length, reviewedCount: reviewed };
    return this.problems.length ? { ...info, problems: [...this.problems] } : info;
  }

  entries(): ImageEntry[] {
    return this.set.images.map((i) => {
      const s = this.summary(i.id);
      return { id: i.id, name: i.name, state: s.state, score: s.score, modifiedAt: i.modifiedAt };
    });
  }

  images(): readonly ImageFile[] {
    return this.set.images;
  }

  summary(id: string): Summary {
    return this.summaries.get(id) ?? { state: 'unreviewed', score: null };
  }

  /** The image's real path, re-checked against the folder (a symlink swapped in since opening is refused). */
  async pathOf(id: string): Promise<{ image: ImageFile; path: string }> {
    const image = this.byId.get(id);
    if (!image) throw new ApiError(404, `no image "${id}" in ${this.root}`, 'id');
    return { image, path: await resolveInside(this.root, id, 'id') };
  }

  record(sidecar: Sidecar): void {
    this.summaries.set(sidecar.image, { state: sidecar.state, score: sidecar.score });
  }

  report(problem: StoreProblem, log: (line: string) => void): void {
    if (!this.problems.some((p) => p.file === problem.file && p.message === problem.message)) this.problems.push(problem);
    log(`kizu: ${problem.file}: ${problem.message}`);
  }
}
