import { readonly, shallowRef } from 'vue';
import { en, type Messages } from './en.ts';
import { ja } from './ja.ts';

export const LOCALES = ['en', 'ja'] as const;
export type Locale = (typeof LOCALES)[number];

/** Every translation, each of the same shape as en (the type checker holds ja to it). */
export const catalogues: Record<Locale, Messages> = { en, ja };

/** Each language by its own name, as the switch in the status bar lists it. */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', ja: '日本語' };

const STORAGE_KEY = 'kizu.locale';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * The first of the system's preferred languages that Kizu speaks, English otherwise.
 * `navigator.languages` carries the system's list in Chromium, and in Electron, whose
 * renderer derives it from the same locale `app.getLocale()` reports.
 */
export function systemLocale(languages: readonly string[]): Locale {
  for (const tag of languages) {
    const primary = tag.toLowerCase().split(/[-_]/)[0];
    if (isLocale(primary)) return primary;
  }
  return 'en';
}

function storedLocale(): Locale | null {
  try {
    const value = globalThis.localStorage?.getItem(STORAGE_KEY);
    return isLocale(value) ? value : null;
  } catch {
    return null;
  }
}

function navigatorLanguages(): readonly string[] {
  const nav = globalThis.navigator;
  if (!nav) return [];
  return nav.languages?.length ? nav.languages : nav.language ? [nav.language] : [];
}

const current = shallowRef<Locale>(storedLocale() ?? systemLocale(navigatorLanguages()));

/** The language on screen: the one chosen in the UI, else the system's. */
export const locale = readonly(current);

function applyToDocument(): void {
  // lang="ja" also makes Chromium pick Japanese glyph forms from CJK fonts.
  if (typeof document !== 'undefined') document.documentElement.lang = current.value;
}
applyToDocument();

/** Switches every string on screen at once and remembers the choice across launches. */
export function setLocale(next: Locale): void {
  current.value = next;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, next);
  } catch {
    // Private mode or a full disk: the switch still holds for this session.
  }
  applyToDocument();
}

/**
 * The UI's strings in the current language. Reading `t.section.key` in a template or a
 * computed tracks the locale, so a switch re-renders everything; strings already built
 * (a notice on screen) keep the language they were made in.
 */
export const t: Messages = new Proxy(en, {
  get: (_target, key) => catalogues[current.value][key as keyof Messages],
});
