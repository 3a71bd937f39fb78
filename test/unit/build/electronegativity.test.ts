import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { formatReport, readAllowlist, staleEntries, unexplained, type ScanResult } from '../../../build/electronegativity.ts';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kizu-electronegativity-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The scanner sets globals and logs: each scan runs in a process of its own. */
async function scanIn(root: string): Promise<ScanResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'build/electronegativity.ts', '--json', '--root', root], {
    cwd: repo, maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as ScanResult;
}

/** A tree shaped like the repository's, with a window made the way the checklist forbids. */
function insecureTree(): string {
  const root = join(tmp, 'insecure');
  mkdirSync(join(root, 'electron'), { recursive: true });
  mkdirSync(join(root, 'renderer'), { recursive: true });
  writeFileSync(join(root, 'package.json'), readFileSync(join(repo, 'package.json')));
  writeFileSync(join(root, 'renderer', 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(root, 'electron', 'main.ts'), [
    "import { app, BrowserWindow, shell } from 'electron';",
    'app.whenReady().then(() => {',
    "  const w = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, webSecurity: false } });",
    "  w.webContents.on('new-window', (_e: unknown, url: string) => shell.openExternal(url));",
    "  void w.loadURL('http://example.com/');",
    '});',
  ].join('\n'));
  return root;
}

describe('Electronegativity over electron/, the renderer HTML and package.json', () => {
  const scans = Promise.all([scanIn(repo), scanIn(insecureTree())]);

  it('finds no HIGH or MEDIUM issue that the allowlist does not explain, and parses every file', async () => {
    const [result] = await scans;
    const allowlist = await readAllowlist();
    // Printed so CI logs carry the report.
    process.stdout.write(`${formatReport(result, allowlist)}\n`);
    expect(result.errors).toEqual([]);
    expect(result.checks).toBeGreaterThan(30);
    expect(unexplained(result.findings, allowlist)).toEqual([]);
    // An entry for a finding that is gone must go too, so the list never hides a new one.
    expect(staleEntries(result.findings, allowlist)).toEqual([]);
  });

  it('is a live check: an insecure window, openExternal and a remote page are unexplained findings', async () => {
    const [, result] = await scans;
    const ids = unexplained(result.findings, await readAllowlist()).map((f) => f.id);
    expect(ids).toEqual(expect.arrayContaining([
      'CONTEXT_ISOLATION_JS_CHECK', 'WEB_SECURITY_JS_CHECK', 'OPEN_EXTERNAL_JS_CHECK', 'HTTP_RESOURCES_JS_CHECK', 'LIMIT_NAVIGATION_GLOBAL_CHECK', 'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK',
    ]));
  });
});
