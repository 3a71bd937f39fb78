import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import StatusBar from '../../../renderer/src/components/StatusBar.vue';
import { en } from '../../../renderer/src/i18n/en.ts';
import { catalogues, LOCALES, locale, setLocale, systemLocale, t } from '../../../renderer/src/i18n/index.ts';
import { ja } from '../../../renderer/src/i18n/ja.ts';
import { setApi } from '../../../renderer/src/api/index.ts';
import { FakeApi } from './fake-api.ts';

/*
 * Every locale has every key of en, no more, with the same kind of value; every sentence
 * built from arguments shows each of them; nothing in ja is left in English.
 */

type Leaf = string | ((...args: never[]) => string) | [string, string][];

function leaves(node: unknown, prefix = ''): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  if (typeof node === 'string' || typeof node === 'function' || Array.isArray(node)) {
    out.set(prefix, node as Leaf);
    return out;
  }
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    for (const [k, v] of leaves(value, prefix ? `${prefix}.${key}` : key)) out.set(k, v);
  }
  return out;
}

const STRING_SAMPLES = ['«alpha»', '«beta»', '«gamma»'];
const NUMBER_SAMPLES = [0.4567, 3, 12_345];

/** en's arguments for a sentence: a string where en shows one verbatim, a number elsewhere (number methods, arithmetic). */
function sampleArgs(fn: (...args: unknown[]) => string): unknown[] {
  const args: unknown[] = NUMBER_SAMPLES.slice(0, fn.length);
  for (let i = 0; i < fn.length; i++) {
    const trial = [...args];
    trial[i] = STRING_SAMPLES[i];
    try {
      if (fn(...trial).includes(STRING_SAMPLES[i])) args[i] = STRING_SAMPLES[i];
    } catch {
      // A number method on this argument: it stays a number.
    }
  }
  return args;
}

/** What a sentence shows of its arguments: the string samples and every number, in any order. */
function shown(text: string): string[] {
  const strings = STRING_SAMPLES.filter((s) => text.includes(s));
  const numbers = text.replace(/«[a-z]+»/g, ' ').match(/\d+(?:[.,]\d+)*/g) ?? [];
  return [...strings, ...numbers].sort();
}

const enLeaves = leaves(en);

/** Names, formats and layer names that read the same in Japanese. */
const SAME_IN_JA = new Set([
  'open.pathPlaceholder',
  'export.destinationPlaceholder',
  'viewer.colormaps.turbo',
  'viewer.colormaps.viridis',
  'method.methods.layercam',
  'method.methods.gradcam',
  'method.methods.gradcampp',
  'method.layers.layer2',
  'method.layers.layer3',
  'method.layers.layer4',
  'export.formats.coco-rle',
  'export.formats.voc',
  'export.formats.labelme',
  'status.simd',
]);
const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff]/;

describe.each(LOCALES.filter((l) => l !== 'en'))('the %s locale', (name) => {
  const other = leaves(catalogues[name]);

  it('has every key of en and no other', () => {
    expect([...other.keys()].sort()).toEqual([...enLeaves.keys()].sort());
  });

  it('has the same kind of value under each key, and no empty string', () => {
    for (const [key, value] of enLeaves) {
      const theirs = other.get(key);
      expect(typeof theirs, key).toBe(typeof value);
      expect(Array.isArray(theirs), key).toBe(Array.isArray(value));
      if (typeof theirs === 'string') expect(theirs.trim(), key).not.toBe('');
      if (Array.isArray(value)) {
        expect((theirs as [string, string][]).length, key).toBe(value.length);
        for (const row of theirs as [string, string][]) expect(row.every((cell) => cell.trim() !== ''), key).toBe(true);
      }
    }
  });

  it('shows every argument of every sentence, as en does', () => {
    let sentences = 0;
    for (const [key, value] of enLeaves) {
      if (typeof value !== 'function') continue;
      const theirs = other.get(key) as (...args: unknown[]) => string;
      const mine = value as (...args: unknown[]) => string;
      expect(theirs.length, `${key}: number of arguments`).toBe(mine.length);
      const args = sampleArgs(mine);
      expect(shown(theirs(...args)), key).toEqual(shown(mine(...args)));
      sentences++;
    }
    expect(sentences).toBeGreaterThan(30);
  });

  it('also matches en on the singular and on zero', () => {
    for (const [key, value] of enLeaves) {
      if (typeof value !== 'function' || value.length !== 1) continue;
      const mine = value as (v: unknown) => string;
      const theirs = other.get(key) as (v: unknown) => string;
      if (sampleArgs(mine)[0] !== NUMBER_SAMPLES[0]) continue;
      for (const v of [0, 1]) expect(shown(theirs(v)), `${key}(${v})`).toEqual(shown(mine(v)));
    }
  });
});

describe('the ja locale', () => {
  it('is Japanese in every string but names that read the same', () => {
    const english: string[] = [];
    for (const [key, value] of leaves(ja)) {
      if (SAME_IN_JA.has(key)) continue;
      const text = typeof value === 'function' ? (value as (...a: unknown[]) => string)(...sampleArgs(enLeaves.get(key) as (...a: unknown[]) => string)) : Array.isArray(value) ? value.map((r) => r[1]).join('\n') : value;
      const words = text.replace(/«[a-z]+»/g, '').replace(/\bpx\b/g, '');
      if (!JAPANESE.test(text) && /[A-Za-z]/.test(words)) english.push(`${key}: ${text}`);
    }
    expect(english).toEqual([]);
  });

  it('keeps the shortcut keys of en, in the same order', () => {
    // Keys with words in them ("0 or double-click", "Wheel / drag") are translated; the rest are keys.
    const isKeys = (k: string) => !/[a-z]{2,}/i.test(k.replace(/Ctrl|Shift/g, ''));
    ja.help.keys.forEach(([k], i) => {
      const mine = en.help.keys[i][0];
      if (isKeys(mine)) expect(k).toBe(mine);
    });
  });
});

describe('choosing the language', () => {
  beforeEach(() => {
    localStorage.clear();
    setApi(new FakeApi(1));
    setActivePinia(createPinia());
  });
  afterEach(() => setLocale('en'));

  it('takes the first system language Kizu speaks, English otherwise', () => {
    expect(systemLocale(['ja-JP', 'en-US'])).toBe('ja');
    expect(systemLocale(['en-GB', 'ja'])).toBe('en');
    expect(systemLocale(['fr-FR', 'ja_JP'])).toBe('ja');
    expect(systemLocale(['de-DE'])).toBe('en');
    expect(systemLocale([])).toBe('en');
  });

  it('switches every string at once, remembers the choice, and marks the document', async () => {
    const bar = mount(StatusBar);
    expect(bar.text()).toContain(en.status.theme);
    setLocale('ja');
    await nextTick();
    expect(locale.value).toBe('ja');
    expect(t.status.theme).toBe(ja.status.theme);
    expect(bar.text()).toContain('テーマ');
    expect(bar.text()).not.toContain(en.status.theme);
    expect(localStorage.getItem('kizu.locale')).toBe('ja');
    expect(document.documentElement.lang).toBe('ja');
    // The switch in the status bar sets it back.
    await bar.get('[data-testid="language"]').setValue('en');
    expect(locale.value).toBe('en');
    expect(bar.text()).toContain(en.status.theme);
    expect(localStorage.getItem('kizu.locale')).toBe('en');
  });
});
