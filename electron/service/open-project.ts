import type { ImageEntry, ImageLabel, LabelCounts, ProjectInfo, ReviewState } from '../api.ts';
import { readProjectSettings, writeProjectSettings, type ProjectSettings } from '../data/project-settings.ts';
import { ProjectStore, type Sidecar, type StoreProblem } from '../data/project-store.ts';
import { ApiError } from '../api-error.ts';
import { folderLabels } from './folder-labels.ts';
import type { ImageFile, ImageSet } from '../data/image-folder.ts';
import { resolveInside } from '../data/path-guard.ts';

interface Summary {
  state: ReviewState;
  score: number | null;
  /** The label the user gave (or a review implied). */
  label: ImageLabel | null;
  /** A reviewed mask is stored: the image can measure a model. */
  hasMask: boolean;
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
  private layoutLabels = new Map<string, ImageLabel>();
  private projectSettings: ProjectSettings | null = null;

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
    project.layoutLabels = await folderLabels(set);
    const { settings, problem } = await readProjectSettings(project.store.dir);
    project.projectSettings = settings;
    if (problem) project.report({ file: project.store.dir, message: problem }, log);
    return project;
  }

  get settings(): ProjectSettings {
    if (!this.projectSettings) throw new Error('the project has not been opened');
    return this.projectSettings;
  }

  async saveSettings(settings: ProjectSettings): Promise<void> {
    await writeProjectSettings(this.store.dir, settings);
    this.projectSettings = settings;
  }

  /** The label training uses: the user's, else the folder layout's. */
  labelOf(id: string): { label: ImageLabel | null; labelFrom: ImageEntry['labelFrom'] } {
    const own = this.summary(id).label;
    if (own !== null) return { label: own, labelFrom: 'user' };
    const fromFolder = this.layoutLabels.get(id) ?? null;
    return { label: fromFolder, labelFrom: fromFolder === null ? null : 'folder' };
  }

  labelCounts(): LabelCounts {
    const counts: LabelCounts = { ok: 0, defect: 0 };
    for (const image of this.set.images) {
      const { label } = this.labelOf(image.id);
      if (label !== null) counts[label]++;
    }
    return counts;
  }

  get root(): string {
    return this.set.root;
  }

  info(): ProjectInfo {
    let reviewed = 0;
    for (const s of this.summaries.values()) if (s.state !== 'unreviewed') reviewed++;
    const { model, previousModels, quality, previousQuality } = this.settings;
    const info: ProjectInfo = {
      root: this.root, imageCount: this.set.images.length, reviewedCount: reviewed, labels: this.labelCounts(), model, previousModels, quality, previousQuality,
    };
    return this.problems.length ? { ...info, problems: [...this.problems] } : info;
  }

  entries(): ImageEntry[] {
    return this.set.images.map((i) => this.entry(i));
  }

  entry(image: ImageFile): ImageEntry {
    const s = this.summary(image.id);
    return { id: image.id, name: image.name, state: s.state, ...this.labelOf(image.id), score: s.score, modifiedAt: image.modifiedAt };
  }

  image(id: string): ImageFile {
    const image = this.byId.get(id);
    if (!image) throw new ApiError(404, `no image "${id}" in ${this.root}`, 'id');
    return image;
  }

  images(): readonly ImageFile[] {
    return this.set.images;
  }

  summary(id: string): Summary {
    return this.summaries.get(id) ?? { state: 'unreviewed', score: null, label: null, hasMask: false };
  }

  /** The image's real path, re-checked against the folder (a symlink swapped in since opening is refused). */
  async pathOf(id: string): Promise<{ image: ImageFile; path: string }> {
    const image = this.image(id);
    return { image, path: await resolveInside(this.root, id, 'id') };
  }

  record(sidecar: Sidecar): void {
    this.summaries.set(sidecar.image, { state: sidecar.state, score: sidecar.score, label: sidecar.label, hasMask: sidecar.mask !== null });
  }

  report(problem: StoreProblem, log: (line: string) => void): void {
    if (!this.problems.some((p) => p.file === problem.file && p.message === problem.message)) this.problems.push(problem);
    log(`kizu: ${problem.file}: ${problem.message}`);
  }
}
