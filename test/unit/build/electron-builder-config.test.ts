import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { checkDistInputs, CONFIG_FILE, DEFAULT_MODEL_DIR } from '../../../build/check-dist-inputs.ts';
import { drawIcon, ICON_FILE, LINUX_ICON_DIR } from '../../../build/make-icons.ts';
import { bundleElectron } from '../../../electron/bundle/bundle-electron.ts';
import { MODELS_RESOURCE_DIR, modelsDir } from '../../../electron/shell/resources.ts';
import viteConfig from '../../../vite.config.ts';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kizu-builder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface FileSet { from: string; to: string; filter?: string[] }
interface Config {
  appId: string;
  productName: string;
  directories: { buildResources: string; output: string };
  files: string[];
  extraResources: FileSet[];
  asar: boolean;
  asarUnpack: string[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[]; icon: string };
  win: { target: string[]; icon: string };
  mac: { target: string[]; icon: string };
  [key: string]: unknown;
}

const config = parseYaml(readFileSync(join(repo, CONFIG_FILE), 'utf8')) as Config;
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  main: string; scripts: Record<string, string>; dependencies: Record<string, string>; optionalDependencies: Record<string, string>;
};

// The schema and the glob matcher electron-builder itself uses, found through it (they are its own dependencies).
const builderRequire = createRequire(createRequire(import.meta.url).resolve('electron-builder/package.json'));
const libRequire = createRequire(builderRequire.resolve('app-builder-lib/package.json'));
const scheme = JSON.parse(readFileSync(libRequire.resolve('app-builder-lib/scheme.json'), 'utf8')) as object;
const { minimatch } = libRequire('minimatch') as { minimatch: (path: string, pattern: string, options?: { dot?: boolean }) => boolean };

function validate(data: unknown): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const check = ajv.compile(scheme);
  return check(data) ? [] : (check.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : ''}`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(repo, join(e.parentPath, e.name)).split('\\').join('/'));
}

describe('build/electron-builder.yml', () => {
  it("is valid against electron-builder's own JSON schema", () => {
    expect(validate(config)).toEqual([]);
    // The validator is live: a misspelt option is an error.
    expect(validate({ ...config, asarUnpak: ['x'] }).join('\n')).toMatch(/asarUnpak/);
    expect(validate({ ...config, linux: { ...config.linux, target: 42 } })).not.toEqual([]);
  });

  it('names the app and builds AppImage + deb, an NSIS installer and a dmg, into release/ (not dist/, the build output)', () => {
    expect(config.productName).toBe('Kizu');
    expect(config.appId).toMatch(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/);
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.directories.output).toBe('release');
    expect(pkg.scripts.dist).toMatch(/^npm run build && .* && electron-builder --config build\/electron-builder\.yml$/);
  });

  it('uses icons that exist at the sizes their names and the platforms ask for, drawn by build/make-icons.ts', async () => {
    const resources = join(repo, config.directories.buildResources);
    for (const icon of [config.win.icon, config.mac.icon]) {
      expect(icon).toBe(`build/${ICON_FILE}`);
      const meta = await sharp(join(repo, icon)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 512]);
    }
    expect(config.linux.icon).toBe(`build/${LINUX_ICON_DIR}`);
    const linux = readdirSync(join(repo, config.linux.icon));
    expect(linux).toContain('256x256.png');
    expect(linux).toContain('512x512.png');
    for (const name of linux) {
      const size = Number(/^(\d+)x\1\.png$/.exec(name)?.[1]);
      const meta = await sharp(join(resources, LINUX_ICON_DIR, name)).metadata();
      expect([name, meta.width, meta.height]).toEqual([name, size, size]);
    }
    // The committed PNGs are what the committed script draws.
    for (const [file, size] of [[ICON_FILE, 512], [`${LINUX_ICON_DIR}/256x256.png`, 256]] as const) {
      const committed = await sharp(join(resources, file)).raw().toBuffer();
      const drawn = await sharp(await drawIcon(size)).raw().toBuffer();
      expect(committed.equals(drawn), file).toBe(true);
    }
  });

  it('packs the bundles `npm run build` makes: the main entry, its preload and its workers', async () => {
    expect(pkg.scripts.build).toMatch(/vite build/);
    expect(pkg.scripts.build).toMatch(/kizu\.js app --build-only/);
    expect(viteConfig.build?.outDir).toBe(join(repo, 'dist', 'renderer'));
    const out = await bundleElectron(repo, join(tmp, 'dist', 'electron'));
    const built = readdirSync(out).map((f) => `dist/electron/${f}`);
    const main = readFileSync(join(repo, 'electron', 'main.ts'), 'utf8');
    const loaded = [pkg.main, ...[...main.matchAll(/'(?:\.\/)?([\w-]+\.c?js)'/g)].map((m) => `dist/electron/${m[1]}`)];
    expect(loaded).toEqual(expect.arrayContaining(['dist/electron/main.js', 'dist/electron/preload.cjs', 'dist/electron/engine-worker.js']));
    const packed = (path: string) => config.files.some((p) => !p.startsWith('!') && minimatch(path, p)) && !config.files.some((p) => p.startsWith('!') && minimatch(path, p.slice(1)));
    for (const file of loaded) {
      expect(built, file).toContain(file);
      expect(packed(file), file).toBe(true);
    }
    expect(packed('dist/renderer/index.html')).toBe(true);
    expect(packed('dist/electron/main.js.map')).toBe(false);
    expect(packed('electron/main.ts')).toBe(false);
  });

  it('unpacks the native modules from the asar: sharp, its libvips, tfjs-node and the wasm binaries', () => {
    expect(config.asar).toBe(true);
    const unpacked = (path: string) => config.asarUnpack.some((p) => minimatch(path, p, { dot: true }));
    const natives = [...filesUnder(join(repo, 'node_modules', 'sharp')), ...filesUnder(join(repo, 'node_modules', '@img'))]
      .filter((f) => f.endsWith('.node') || /\.so(\.\d+)*$|\.dylib$|\.dll$/.test(f));
    expect(natives.length).toBeGreaterThan(0);
    for (const file of natives) expect(unpacked(file), file).toBe(true);
    const wasm = filesUnder(join(repo, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')).filter((f) => f.endsWith('.wasm'));
    expect(wasm.length).toBeGreaterThan(0);
    for (const file of wasm) expect(unpacked(file), file).toBe(true);
    // tfjs-node is optional (its install needs a download): absent here, named for build machines that have it.
    expect(pkg.optionalDependencies['@tensorflow/tfjs-node']).toBeDefined();
    expect(unpacked('node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node')).toBe(true);
    expect(unpacked('node_modules/@tensorflow/tfjs-node/deps/lib/libtensorflow.so.2')).toBe(true);
    expect(pkg.dependencies.sharp).toBeDefined();
    expect(unpacked('node_modules/zod/index.js')).toBe(false);
  });

  it('ships the default model beside app.asar, where the packaged app looks for it', () => {
    expect(config.extraResources).toEqual([{ from: DEFAULT_MODEL_DIR, to: `${MODELS_RESOURCE_DIR}/default`, filter: ['manifest.json', '*.safetensors', 'MODEL_CARD.md'] }]);
    const location = { isPackaged: true, appPath: '/opt/Kizu/resources/app.asar', resourcesPath: '/opt/Kizu/resources' };
    expect(join(modelsDir(location, {}), 'default')).toBe(join('/opt/Kizu/resources', config.extraResources[0].to));
    expect(modelsDir({ ...location, isPackaged: false, appPath: '/work/kizu' }, {})).toBe(join('/work/kizu', 'models'));
    expect(modelsDir(location, { KIZU_MODELS_DIR: '/srv/models' })).toBe('/srv/models');
  });

  it('flips the fuses a shipped app should: no run-as-node, no NODE_OPTIONS or --inspect, asar only and checked', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });
});

describe('what `npm run dist` needs besides the build', () => {
  function fakeRepo(name: string): string {
    const root = join(tmp, name);
    mkdirSync(join(root, 'build'), { recursive: true });
    writeFileSync(join(root, CONFIG_FILE), readFileSync(join(repo, CONFIG_FILE)));
    return root;
  }

  it('refuses to package without a default model, or with one that does not load, saying what to do', async () => {
    const root = fakeRepo('no-model');
    expect(await checkDistInputs(root)).toEqual([`${DEFAULT_MODEL_DIR}: missing (${CONFIG_FILE} packs it as an extra resource)`]);
    mkdirSync(join(root, DEFAULT_MODEL_DIR), { recursive: true });
    writeFileSync(join(root, DEFAULT_MODEL_DIR, 'manifest.json'), '{"format": "kizu-model"');
    const [problem] = await checkDistInputs(root);
    expect(problem).toMatch(/models\/default: not a usable model \(.*manifest\.json: the model manifest is not JSON/);
    expect(problem).toMatch(/kizu train --out models\/default/);
  });

  it('accepts a model directory whose manifest is valid and whose weights are there', async () => {
    const root = fakeRepo('with-model');
    const dir = join(root, DEFAULT_MODEL_DIR);
    mkdirSync(dir, { recursive: true });
    const { identityManifest } = await import('../helpers/tiny-model.ts');
    const { loadTinyFixture, FIXTURE_DIR } = await import('../helpers/fixture.ts');
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(identityManifest(await loadTinyFixture())));
    expect(await checkDistInputs(root)).toEqual([`${DEFAULT_MODEL_DIR}: its manifest names weights.safetensors, which is not there`]);
    writeFileSync(join(dir, 'weights.safetensors'), readFileSync(join(FIXTURE_DIR, 'weights.safetensors')));
    expect(await checkDistInputs(root)).toEqual([]);
  });

  it('in this repository: every extra resource exists and the default model is ready to pack', async () => {
    expect(await checkDistInputs(repo)).toEqual([]);
  });
});
