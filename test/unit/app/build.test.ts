import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleElectron } from '../../../electron/bundle/bundle-electron.ts';
import { rendererStaleReason } from '../../../electron/bundle/renderer-build.ts';
import { demoDirIn, pickModelPath, userDataDir } from '../../../electron/service/startup.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kizu-build-'));
const repo = fileURLToPath(new URL('../../../', import.meta.url));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('renderer staleness', () => {
  it('builds when dist/renderer is missing, or older than a source, and not otherwise', async () => {
    const root = join(tmp, 'repo');
    mkdirSync(join(root, 'renderer', 'src'), { recursive: true });
    mkdirSync(join(root, 'electron', 'annotate'), { recursive: true });
    writeFileSync(join(root, 'renderer', 'src', 'App.vue'), '<template/>');
    writeFileSync(join(root, 'electron', 'api.ts'), '');
    expect(await rendererStaleReason(root)).toMatch(/not built/);
    mkdirSync(join(root, 'dist', 'renderer'), { recursive: true });
    writeFileSync(join(root, 'dist', 'renderer', 'index.html'), '');
    const past = new Date(Date.now() - 60_000);
    for (const f of ['renderer/src/App.vue', 'renderer/src', 'renderer', 'electron/api.ts']) utimesSync(join(root, f), past, past);
    expect(await rendererStaleReason(root)).toBeNull();
    writeFileSync(join(root, 'electron', 'api.ts'), '// changed');
    utimesSync(join(root, 'electron', 'api.ts'), new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
    expect(await rendererStaleReason(root)).toMatch(/changed/);
  });
});

describe('Electron bundles', () => {
  it('makes main and the workers ES modules, and the preload one CommonJS file needing only electron', async () => {
    const out = await bundleElectron(repo, join(tmp, 'electron'));
    const preload = readFileSync(join(out, 'preload.cjs'), 'utf8');
    const required = [...preload.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(new Set(required)).toEqual(new Set(['electron']));
    expect(preload).toContain('exposeInMainWorld');
    expect(preload).not.toMatch(/\bimport\s/);
    const main = readFileSync(join(out, 'main.js'), 'utf8');
    expect(main).toMatch(/from "electron"/);
    expect(main).toContain('engine-worker.js');
    expect(readFileSync(join(out, 'engine-worker.js'), 'utf8')).toMatch(/parentPort/);
  });
});

describe('startup choices', () => {
  it('picks the model asked for, then KIZU_MODEL, then the default when installed, else none', () => {
    const models = join(tmp, 'models', 'default');
    expect(pickModelPath('/m/given', { KIZU_MODEL: '/m/env' }, models)).toBe('/m/given');
    expect(pickModelPath(undefined, { KIZU_MODEL: '/m/env' }, models)).toBe('/m/env');
    expect(pickModelPath(undefined, {}, models)).toBeNull();
    mkdirSync(models, { recursive: true });
    writeFileSync(join(models, 'manifest.json'), '{}');
    expect(pickModelPath(undefined, {}, models)).toBe(models);
  });

  it('keeps its own files where Electron keeps userData for "kizu", unless KIZU_DATA_DIR says otherwise', () => {
    expect(userDataDir({ KIZU_DATA_DIR: '/d' })).toBe('/d');
    expect(userDataDir({}, 'linux', '/home/u')).toBe('/home/u/.config/kizu');
    expect(userDataDir({ XDG_CONFIG_HOME: '/x' }, 'linux', '/home/u')).toBe('/x/kizu');
    expect(userDataDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/kizu');
    expect(userDataDir({ APPDATA: 'C:/Users/u/AppData/Roaming' }, 'win32', 'C:/Users/u')).toMatch(/Roaming[\\/]kizu$/);
    expect(demoDirIn('/d')).toBe(join('/d', 'demo'));
  });
});
