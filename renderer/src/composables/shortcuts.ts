import { onBeforeUnmount, onMounted } from 'vue';
import type { MapLayer } from '../../../electron/api.ts';
import { useExportStore } from '../stores/export.ts';
import { useProjectStore } from '../stores/project.ts';
import { useReviewStore } from '../stores/review.ts';
import { useTrainingStore } from '../stores/training.ts';
import { useViewerStore } from '../stores/viewer.ts';

const LAYER_KEYS: Record<string, MapLayer> = { '2': 'layer2', '3': 'layer3', '4': 'layer4', f: 'fused' };

/** Typing in a field must not trigger shortcuts (a threshold of "0.4" is not layer 4). */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'range'].includes(target.type);
}

/** The keyboard map of UX.md; listed for people in the help overlay (i18n help.keys). */
export function useShortcuts(openFolderDialog: () => void): void {
  const project = useProjectStore();
  const review = useReviewStore();
  const viewer = useViewerStore();
  const exporter = useExportStore();
  const training = useTrainingStore();

  function handle(e: KeyboardEvent): void {
    const ctrl = e.ctrlKey || e.metaKey;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (key === 'Escape') {
      if (viewer.helpOpen) viewer.helpOpen = false;
      else if (exporter.open) exporter.open = false;
      else if (training.open) training.open = false;
      else if (project.picked.length) project.clearPicks();
      else viewer.tool = 'pan';
      return;
    }
    if (ctrl && key === 'o') {
      e.preventDefault();
      openFolderDialog();
      return;
    }
    if (isTyping(e.target) || e.altKey) return;
    // A focused slider keeps its arrow keys.
    if (key.startsWith('Arrow') && e.target instanceof HTMLInputElement && e.target.type === 'range') return;
    if (ctrl && key === 'z') {
      e.preventDefault();
      if (e.shiftKey) review.redo();
      else review.undo();
      return;
    }
    if (ctrl && key === 'y') {
      e.preventDefault();
      review.redo();
      return;
    }
    if (ctrl) return;
    // Dialogs keep their own keys; only Esc (above) reaches through.
    if (exporter.open || training.open) return;
    if (key === '?') {
      viewer.helpOpen = !viewer.helpOpen;
      return;
    }
    if (viewer.helpOpen) return;
    const act = (fn: () => void) => {
      e.preventDefault();
      fn();
    };
    switch (key) {
      case 'ArrowLeft':
        return act(() => project.step(-1));
      case 'ArrowRight':
        return act(() => project.step(1));
      case 'a':
        return act(() => void review.review('accepted'));
      case 'r':
        return act(() => void review.review('rejected'));
      case 'o':
        return act(() => void review.label('ok'));
      case 'd':
        return act(() => void review.label('defect'));
      case 'Delete':
        return act(() => void review.label(null));
      case 'b':
        return act(() => viewer.toggleTool('brush'));
      case 'e':
        return act(() => viewer.toggleTool('eraser'));
      case '[':
        return act(() => viewer.resizeBrush(-1));
      case ']':
        return act(() => viewer.resizeBrush(1));
      case 's':
        return act(() => {
          viewer.sideBySide = !viewer.sideBySide;
          viewer.fit();
        });
      case '0':
        return act(() => viewer.fit());
      case '+':
      case '=':
        return act(() => viewer.zoomBy(1.25));
      case '-':
        return act(() => viewer.zoomBy(0.8));
    }
    const layer = LAYER_KEYS[key];
    if (layer) act(() => review.setParams({ layer }));
  }

  onMounted(() => window.addEventListener('keydown', handle));
  onBeforeUnmount(() => window.removeEventListener('keydown', handle));
}
