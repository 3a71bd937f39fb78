import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * Electronegativity (Doyensec's Electron security scanner) over what Kizu's Electron side is
 * made of: electron/ (main, preload, IPC, server), the renderer's HTML with its CSP, and
 * package.json (the Electron version). Every HIGH or MEDIUM finding must be listed, with the
 * reason it does not apply, in build/electronegativity-allowlist.json; anything else fails.
 *
 * Run: `npm run security:scan` (prints the findings; exit code 1 on an unexplained one);
 * `--json` prints the raw scan instead, `--root <dir>` scans another tree of the same shape.
 * The package's own CLI cannot start here (it relies on an old commander that it does not
 * declare), so this calls its runner directly.
 */

export const ALLOWLIST_FILE = fileURLToPath(new URL('./electronegativity-allowlist.json', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Downloads Electron's release list from GitHub to look for newer patch releases: impossible
 * offline (CI and factory build machines), so left out; the Electron version is pinned in
 * package.json and reviewed by hand.
 */
export const EXCLUDED_CHECKS = ['AvailableSecurityFixesGlobalCheck'];

export const SEVERITIES = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  id: string;
  severity: Severity;
  confidence: string;
  /** Relative to the scanned tree: electron/..., renderer/index.html, package.json. */
  file: string;
  line: number;
  column: number;
  /** The flagged source line, trimmed ('' for findings about the whole app): what the allowlist matches. */
  code: string;
  description: string;
  manualReview: boolean;
}

export interface ScanResult {
  checks: number;
  findings: Finding[];
  /** Files the scanner could not parse: a blind spot, so the test fails on any. */
  errors: { file: string; message: string }[];
}

const allowlistSchema = z.object({
  allowed: z.array(z.object({
    id: z.string().min(1),
    file: z.string().min(1),
    /** The flagged line itself, so an entry stops matching when that code changes. */
    code: z.string(),
    reason: z.string().min(40, 'must say why the finding does not apply'),
    guardedBy: z.string().min(1),
  })),
});
export type Allowlist = z.infer<typeof allowlistSchema>;

export async function readAllowlist(path = ALLOWLIST_FILE): Promise<Allowlist> {
  const parsed = allowlistSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The tree the scanner reads: copies, so it sees exactly these and nothing else of the repository. */
async function stage(root: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kizu-electronegativity-'));
  await cp(join(root, 'electron'), join(dir, 'electron'), { recursive: true });
  await mkdir(join(dir, 'renderer'));
  await cp(join(root, 'renderer', 'index.html'), join(dir, 'renderer', 'index.html'));
  await cp(join(root, 'package.json'), join(dir, 'package.json'));
  return dir;
}

async function sourceLine(path: string, line: number): Promise<string> {
  if (line < 1) return '';
  const text = await readFile(path, 'utf8').catch(() => '');
  return (text.split('\n')[line - 1] ?? '').trim();
}

interface RawIssue {
  id: string;
  severity: { name: string };
  confidence: { name: string };
  file: string;
  location: { line: number; column: number };
  description: string;
  manualReview?: boolean;
}

type Runner = (options: Record<string, unknown>, forCli: boolean) => Promise<{ globalChecks: number; atomicChecks: number; errors: { file: string; message: string }[]; issues: RawIssue[] }>;

/**
 * Scans the repository at `root`. The scanner sets globals (its i18n `__`) and logs, so run it
 * in a process of its own (the test does, through this file's command line).
 */
export async function scan(root = ROOT): Promise<ScanResult> {
  // It asks the network for translations of $LANG and fails over to English; name English.
  process.env.LANG = 'en-US';
  const run = createRequire(import.meta.url)('@doyensec/electronegativity/dist/runner.js') as Runner;
  const dir = await stage(root);
  // Its progress lines go to stderr, so stdout carries only what this file prints.
  const log = console.log;
  console.log = (...args: unknown[]) => console.error(...args);
  try {
    const result = await run({ input: dir, isRelative: true, excludeFromScan: EXCLUDED_CHECKS.map((c) => c.toLowerCase()) }, false);
    const findings: Finding[] = [];
    for (const i of result.issues) {
      const file = i.file.split('\\').join('/');
      findings.push({
        id: i.id,
        severity: i.severity.name as Severity,
        confidence: i.confidence.name,
        file,
        line: i.location.line,
        column: i.location.column,
        code: await sourceLine(join(dir, file), i.location.line),
        description: i.description,
        manualReview: i.manualReview === true,
      });
    }
    findings.sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || a.file.localeCompare(b.file) || a.line - b.line || a.id.localeCompare(b.id));
    return { checks: result.globalChecks + result.atomicChecks, findings, errors: result.errors.map((e) => ({ file: e.file, message: e.message })) };
  } finally {
    console.log = log;
    await rm(dir, { recursive: true, force: true });
  }
}

const mustExplain = (f: Finding) => f.severity === 'HIGH' || f.severity === 'MEDIUM';
const matches = (f: Finding, a: Allowlist['allowed'][number]) => f.id === a.id && f.file === a.file && f.code === a.code;

/** HIGH and MEDIUM findings with no allowlist entry. */
export function unexplained(findings: Finding[], allowlist: Allowlist): Finding[] {
  return findings.filter((f) => mustExplain(f) && !allowlist.allowed.some((a) => matches(f, a)));
}

/** Allowlist entries that no longer match a finding: reasons for problems that are gone. */
export function staleEntries(findings: Finding[], allowlist: Allowlist): Allowlist['allowed'] {
  return allowlist.allowed.filter((a) => !findings.some((f) => mustExplain(f) && matches(f, a)));
}

/** One line per finding, with what the allowlist says about it. */
export function formatReport(result: ScanResult, allowlist: Allowlist): string {
  const lines = [`Electronegativity: ${result.checks} checks, ${result.findings.length} finding(s), ${result.errors.length} parse error(s)`];
  for (const f of result.findings) {
    const entry = allowlist.allowed.find((a) => matches(f, a));
    const verdict = !mustExplain(f) ? 'noted' : entry ? `allowed: ${entry.reason}` : 'UNEXPLAINED';
    lines.push(`${f.severity.padEnd(13)} ${f.confidence.padEnd(9)} ${f.id.padEnd(28)} ${`${f.file}:${f.line}:${f.column}`.padEnd(28)} ${verdict}`);
  }
  for (const e of result.errors) lines.push(`PARSE ERROR   ${e.file}: ${e.message}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rootArg = process.argv.indexOf('--root');
  const result = await scan(rootArg > 0 ? process.argv[rootArg + 1] : ROOT);
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const allowlist = await readAllowlist();
    process.stdout.write(`${formatReport(result, allowlist)}\n`);
    const bad = unexplained(result.findings, allowlist);
    if (bad.length > 0 || result.errors.length > 0) {
      process.stderr.write(`electronegativity: ${bad.length} unexplained HIGH/MEDIUM finding(s), ${result.errors.length} parse error(s)\n`);
      process.exitCode = 1;
    }
  }
}
