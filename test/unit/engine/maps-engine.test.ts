import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectInfo, formatInfo } from '../../../electron/commands/info.ts';
import { initBackend, type BackendInfo } from '../../../electron/engine/backend.ts';
import { Explainer } from '../../../electron/engine/explain.ts';
import { chooseMapsEngine, describeMapsEngine, mapsEngineLine } from '../../../electron/engine/maps-engine.ts';
import { onnxRuntimeVersion } from '../../../electron/engine/onnx/runtime.ts';
import { onnxRuntimeInstalled } from '../helpers/backends.ts';
import { loadTinyFixture } from '../helpers/fixture.ts';
import { identityManifest, tinyNet } from '../helpers/tiny-model.ts';

/*
 * The name the status bar, `kizu info` and `kizu explain` give to what computes the maps and
 * scores: onnxruntime with its threads where it runs the passes, the tfjs backend only where
 * tfjs runs them (KIZU_EXPLAIN_ENGINE=tfjs, or onnxruntime absent).
 */

const fixture = await loadTinyFixture();
const onnx = await onnxRuntimeInstalled();

const backend = (name: BackendInfo['name'], simd: boolean, threads: number): BackendInfo =>
  ({ name, tfName: name === 'node' ? 'tensorflow' : name, version: '4.22.0', threads, simd, fallbacks: [] });

function explainer(): Explainer {
  const net = tinyNet(fixture);
  const e = new Explainer(identityManifest(fixture), { net });
  net.dispose();
  return e;
}

afterEach(() => vi.unstubAllEnvs());

describe('the engine named for maps and scores', () => {
  it('is onnxruntime with its version and threads when it runs the passes, whatever the tfjs backend', () => {
    for (const b of [backend('wasm', true, 1), backend('node', true, 8), backend('cpu', false, 1)]) {
      expect(describeMapsEngine({ name: 'onnxruntime' }, b, { version: '1.30.0', threads: 2 }))
        .toEqual({ name: 'onnxruntime', version: '1.30.0', threads: 2, label: 'onnxruntime 1.30.0, 2 threads' });
    }
    expect(describeMapsEngine({ name: 'onnxruntime' }, backend('wasm', true, 1), { version: '1.30.0', threads: 1 }).label).toBe('onnxruntime 1.30.0, 1 thread');
  });

  it('is the tfjs backend, named as tfjs, where tfjs runs them, with why onnxruntime was skipped', () => {
    expect(describeMapsEngine({ name: 'tfjs' }, backend('wasm', true, 1))).toEqual({ name: 'tfjs', version: '4.22.0', threads: 1, label: 'tfjs wasm SIMD 4.22.0, 1 thread' });
    expect(describeMapsEngine({ name: 'tfjs' }, backend('node', true, 8)).label).toBe('tfjs-node 4.22.0, 8 threads');
    expect(describeMapsEngine({ name: 'tfjs' }, backend('cpu', false, 1)).label).toBe('tfjs cpu 4.22.0, 1 thread');
    const absent = describeMapsEngine({ name: 'tfjs', fallback: "onnxruntime: Cannot find package 'onnxruntime-node'" }, backend('wasm', false, 1));
    expect(absent).toMatchObject({ label: 'tfjs wasm no SIMD 4.22.0, 1 thread', fallback: "Cannot find package 'onnxruntime-node'" });
  });

  it.skipIf(!onnx)('with onnxruntime installed: onnxruntime, on every core, in the engine, `kizu explain` and `kizu info`', async () => {
    vi.stubEnv('KIZU_EXPLAIN_ENGINE', '');
    const b = await initBackend();
    const want = `onnxruntime ${onnxRuntimeVersion()}, ${availableParallelism()} thread${availableParallelism() === 1 ? '' : 's'}`;
    expect(await chooseMapsEngine(b)).toMatchObject({ name: 'onnxruntime', label: want });
    const e = explainer();
    expect(await mapsEngineLine(e, b)).toBe(want);
    e.dispose();
    const info = formatInfo(await collectInfo());
    expect(info).toContain(`maps and scores: ${want}\n`);
    expect(info).toMatch(/tfjs backend \(the CAM formulas on onnxruntime's activations\): /);
  });

  it('with KIZU_EXPLAIN_ENGINE=tfjs: the tfjs backend, in the engine, `kizu explain` and `kizu info`', async () => {
    vi.stubEnv('KIZU_EXPLAIN_ENGINE', 'tfjs');
    const b = await initBackend();
    const want = describeMapsEngine({ name: 'tfjs' }, b).label;
    expect(want).toMatch(/^tfjs(-node| wasm| cpu)/);
    expect(await chooseMapsEngine(b)).toEqual({ name: 'tfjs', version: b.version, threads: b.threads, label: want });
    const e = explainer();
    expect(await e.engine()).toEqual({ name: 'tfjs' });
    expect(await mapsEngineLine(e, b)).toBe(want);
    e.dispose();
    const info = formatInfo(await collectInfo());
    expect(info).toContain(`maps and scores: ${want}\n`);
    expect(info).not.toContain('maps and scores: onnxruntime');
    expect(info).toMatch(/tfjs backend \(the network's passes and the CAM formulas\): /);
  });

  it('says why onnxruntime was skipped where it could not load', async () => {
    const b = backend('wasm', true, 1);
    const skipped = { engine: async () => ({ name: 'tfjs' as const, fallback: 'onnxruntime: libonnxruntime.so.1: cannot open shared object file' }) };
    expect(await mapsEngineLine(skipped, b)).toBe('tfjs wasm SIMD 4.22.0, 1 thread (onnxruntime skipped: libonnxruntime.so.1: cannot open shared object file)');
  });
});
