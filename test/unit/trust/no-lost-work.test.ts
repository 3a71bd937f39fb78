import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCoco } from '../../../electron/annotate/formats/coco.ts';
import { decodeLabelPng } from '../../../electron/annotate/png-codec.ts';
import { ProjectStore } from '../../../electron/data/project-store.ts';
import { Rng } from './fuzz/mutate.ts';
import { EXPORT_FILES, IMAGE_IDS, LABELLED_ID, labelOf, maskFor, versionOfMask, versionOfTime } from './kill/versioned.ts';

/*
 * No lost work: a child process saves reviews (sidecar + mask, through ProjectStore), an
 * image-level label, and writes an export (through writeExport) in a loop, and is SIGKILLed at a random moment, 30
 * times over on the same folders. After each kill every file must be whole and valid, and be
 * either what it was before the interrupted save or what that save wrote.
 */

const KILLS = 30;
const SEED = 8;
const MAX_DELAY_MS = 300;
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kizu-kill-'));
const project = join(tmp, 'project');
const out = join(tmp, 'export');
// A project is a folder of images the user opened: it exists before anything is saved in it.
mkdirSync(join(project, 'sub'), { recursive: true });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Bundled once, so each of the many children starts in a fraction of the time tsx would take.
const loop = join(tmp, 'save-loop.mjs');
beforeAll(async () => {
  await build({ entryPoints: [join(repo, 'test/unit/trust/kill/save-loop.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: loop, logLevel: 'error',
    // Some dependencies are CommonJS and require Node's modules.
    banner: { js: "import { createRequire as kizuCreateRequire } from 'node:module'; const require = kizuCreateRequire(import.meta.url);" },
  });
});

/** Starts the save loop, kills it `delay` ms after it is ready, and returns the iterations it began. */
function runAndKill(first: number, delay: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [loop, project, out, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let armed = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (stderr += c));
    child.stdout.on('data', (c: string) => {
      stdout += c;
      if (!armed && stdout.includes('ready\n')) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delay);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`the save loop stopped by itself (code ${code}): ${stderr}`));
      resolve([...stdout.matchAll(/^begin (\d+)$/gm)].map((m) => Number(m[1])));
    });
  });
}

type Versions = Map<string, number | undefined>;

/** Every file's version, after checking it is whole: sidecars with their masks, and the export. */
async function observe(): Promise<Versions> {
  const versions: Versions = new Map();
  const store = new ProjectStore(project);
  for (const id of IMAGE_IDS) {
    if (!existsSync(store.sidecarPath(id))) {
      versions.set(id, undefined);
      continue;
    }
    const review = await store.loadReview(id);
    expect(review.problem, id).toBeUndefined();
    const version = versionOfTime(review.sidecar.updatedAt!);
    expect(review.mask, id).toEqual(maskFor(version));
    versions.set(id, version);
  }
  if (existsSync(store.sidecarPath(LABELLED_ID))) {
    const { sidecar, problem } = await store.read(LABELLED_ID);
    expect(problem, LABELLED_ID).toBeUndefined();
    const version = versionOfTime(sidecar.updatedAt!);
    expect(sidecar.label, LABELLED_ID).toBe(labelOf(version));
    versions.set(LABELLED_ID, version);
  } else {
    versions.set(LABELLED_ID, undefined);
  }
  for (const file of EXPORT_FILES) {
    const path = join(out, ...file.split('/'));
    if (!existsSync(path)) {
      versions.set(file, undefined);
      continue;
    }
    const bytes = new Uint8Array(readFileSync(path));
    if (file.endsWith('.json')) {
      const coco = importCoco(bytes, file);
      expect(coco.items.map((i) => i.fileName)).toEqual(['a.png']);
      const { annotations } = JSON.parse(new TextDecoder().decode(bytes)) as { annotations: { score: number }[] };
      const version = Math.round(annotations[0].score * 1e6);
      expect(Array.from(coco.items[0].mask.data, (v) => (v ? 1 : 0)), file).toEqual(Array.from(maskFor(version).data));
      versions.set(file, version);
    } else {
      versions.set(file, versionOfMask(decodeLabelPng(bytes, file).values));
    }
  }
  return versions;
}

/** Files other than the live ones: complete masks a kill orphaned, and the temp files of interrupted writes. */
function leftovers(live: Set<string>): { orphans: string[]; temps: string[]; other: string[] } {
  const all = [project, out].flatMap((root) => readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)));
  const rest = all.filter((p) => !live.has(p));
  const temps = rest.filter((p) => /\/\.[^/]+\.\d+\.[0-9a-f]{12}\.tmp$/.test(p));
  const orphans = rest.filter((p) => /\.mask-[0-9a-f]{16}\.png$/.test(p));
  return { orphans, temps, other: rest.filter((p) => !temps.includes(p) && !orphans.includes(p)).map((p) => relative(tmp, p)) };
}

describe('no lost work: saves and exports SIGKILLed at random moments', () => {
  it(`leaves every file whole, valid, and either the old or the new version, over ${KILLS} kills`, async () => {
    const rng = new Rng(SEED);
    let previous: Versions = new Map([...IMAGE_IDS, LABELLED_ID, ...EXPORT_FILES].map((f) => [f, undefined]));
    let iterations = 0;
    for (let run = 0; run < KILLS; run++) {
      const first = 1 + run * 10_000;
      const begun = await runAndKill(first, Math.floor(rng.next() * MAX_DELAY_MS));
      iterations += begun.length;
      const now = await observe();
      const last = begun.at(-1);
      for (const [file, version] of now) {
        // Interrupted in its first iteration, a file may still hold what the last run left.
        const allowed = last === undefined ? [previous.get(file)] : last > first ? [last - 1, last] : [previous.get(file), last];
        expect(allowed, `run ${run}, ${file}: version ${version} after iterations ${first}..${last}`).toContain(version);
      }
      previous = now;
    }
    expect(iterations).toBeGreaterThan(KILLS);

    const store = new ProjectStore(project);
    const live = new Set<string>();
    for (const id of IMAGE_IDS) {
      const { sidecar } = await store.read(id);
      live.add(store.sidecarPath(id)).add(store.maskPath(id, sidecar.mask!.file));
    }
    live.add(store.sidecarPath(LABELLED_ID));
    for (const file of EXPORT_FILES) live.add(join(out, ...file.split('/')));
    const { orphans, temps, other } = leftovers(live);
    expect(other).toEqual([]);
    // A kill interrupts at most one write: one temp file, and at most one mask saved ahead of its sidecar.
    expect(temps.length).toBeLessThanOrEqual(KILLS);
    expect(orphans.length).toBeLessThanOrEqual(KILLS);
    for (const orphan of orphans) expect(() => decodeLabelPng(new Uint8Array(readFileSync(orphan)), orphan)).not.toThrow();
  });
});
