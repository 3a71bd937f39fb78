import { ProjectStore } from '../../../../electron/data/project-store.ts';
import { writeExport } from '../../../../electron/data/export-writer.ts';
import { exportFor, IMAGE_IDS, LABELLED_ID, labelOf, maskFor, PARAMS, timeOf } from './versioned.ts';

/**
 * The process the kill test kills: saves reviews (sidecar + mask), an image-level label and an export, over
 * and over, each iteration with a higher version. `begin <k>` goes out before iteration k
 * touches a file (stdout to a pipe is synchronous on Linux, so the test reads it even after a
 * SIGKILL). Usage: save-loop.ts <project dir> <export dir> <first version>.
 */

const [project, out, first] = process.argv.slice(2);
const store = new ProjectStore(project);
process.stdout.write('ready\n');
for (let version = Number(first); ; version++) {
  process.stdout.write(`begin ${version}\n`);
  for (const id of IMAGE_IDS) {
    await store.saveReview(id, { state: version % 2 ? 'accepted' : 'edited', params: PARAMS, mask: maskFor(version) }, timeOf(version));
  }
  await store.saveLabel(LABELLED_ID, labelOf(version), timeOf(version));
  await writeExport(out, exportFor(version));
}
