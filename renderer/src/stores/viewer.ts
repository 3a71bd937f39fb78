import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { COLORMAPS, type ColormapName } from '../../../electron/annotate/colormap.ts';
import type { ViewTransform } from '../lib/view-transform.ts';

export type Tool = 'pan' | 'brush' | 'eraser';
export type Theme = 'system' | 'light' | 'dark';

const PREFS = 'kizu.viewer';
export const DEFAULT_OPACITY = 0.45;
export const MIN_BRUSH = 1;
export const MAX_BRUSH = 128;

interface Prefs {
  colormap: ColormapName;
  opacity: number;
  showHeatmap: boolean;
  showMask: boolean;
  brushSize: number;
  theme: Theme;
}

function loadPrefs(): Partial<Prefs> {
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(PREFS) ?? '{}');
    return raw !== null && typeof raw === 'object' ? (raw as Partial<Prefs>) : {};
  } catch {
    return {};
  }
}

/** How the image is shown: overlay look, zoom and pan, the editing tool; looks persist. */
export const useViewerStore = defineStore('viewer', () => {
  const saved = loadPrefs();
  const colormap = ref<ColormapName>(COLORMAPS.includes(saved.colormap as ColormapName) ? (saved.colormap as ColormapName) : 'turbo');
  const opacity = ref(typeof saved.opacity === 'number' && saved.opacity >= 0 && saved.opacity <= 1 ? saved.opacity : DEFAULT_OPACITY);
  const showHeatmap = ref(saved.showHeatmap !== false);
  const showMask = ref(saved.showMask !== false);
  const brushSize = ref(typeof saved.brushSize === 'number' ? clampBrush(saved.brushSize) : 8);
  const theme = ref<Theme>(saved.theme === 'light' || saved.theme === 'dark' ? saved.theme : 'system');
  const sideBySide = ref(false);
  const tool = ref<Tool>('pan');
  // null means "fit": the viewer computes the fitting transform for its size.
  const transform = ref<ViewTransform | null>(null);
  const helpOpen = ref(false);
  // Zoom asked for from outside the canvas (menu, toolbar): the main view applies it about its centre.
  const zoomRequest = ref<{ factor: number; serial: number } | null>(null);

  watch([colormap, opacity, showHeatmap, showMask, brushSize, theme], () => {
    const prefs: Prefs = {
      colormap: colormap.value, opacity: opacity.value, showHeatmap: showHeatmap.value,
      showMask: showMask.value, brushSize: brushSize.value, theme: theme.value,
    };
    localStorage.setItem(PREFS, JSON.stringify(prefs));
  });

  function fit(): void {
    transform.value = null;
  }

  function zoomBy(factor: number): void {
    zoomRequest.value = { factor, serial: (zoomRequest.value?.serial ?? 0) + 1 };
  }

  /** B and E toggle their tool: pressing the active one again goes back to panning. */
  function toggleTool(next: Exclude<Tool, 'pan'>): void {
    tool.value = tool.value === next ? 'pan' : next;
  }

  /** [ and ]: about 25 % per press, at least one pixel. */
  function resizeBrush(direction: 1 | -1): void {
    const factor = direction > 0 ? 1.25 : 0.8;
    const next = Math.round(brushSize.value * factor);
    brushSize.value = clampBrush(next === brushSize.value ? brushSize.value + direction : next);
  }

  return {
    colormap, opacity, showHeatmap, showMask, brushSize, theme, sideBySide, tool, transform, helpOpen, zoomRequest,
    fit, zoomBy, toggleTool, resizeBrush,
  };
});

function clampBrush(size: number): number {
  return Math.min(MAX_BRUSH, Math.max(MIN_BRUSH, Math.round(size)));
}
