/**
 * Static analysis of the package's Apex with the tools Salesforce Code Analyzer ships in
 * @salesforce/code-analyzer-pmd-engine (Java 17):
 * - Apex Dev Tools' apex-ls (`io.github.apexdevtools.apexls.CheckForIssues`): semantic analysis
 *   that resolves types, the package's own objects and fields, and method calls as the org's
 *   compiler would (known gap: it does not enforce `private` visibility across classes);
 * - PMD's Apex rules through Code Analyzer's own wrapper, with Code Analyzer's severities and tags
 *   (`RULE_MAPPINGS`): the Recommended rules plus every Security rule.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const ENGINE_DIR = resolve(require.resolve('@salesforce/code-analyzer-pmd-engine/package.json'), '..');
const JAVA_LIB = join(ENGINE_DIR, 'dist', 'java-lib');
const CLASSPATH = `${JAVA_LIB}/*`;

export interface ApexLsIssue {
  readonly path: string;
  readonly line: number;
  readonly category: string;
  readonly message: string;
}

/** Runs apex-ls on an SFDX workspace (a folder with sfdx-project.json) and returns every issue. */
export async function apexLsIssues(workspace: string): Promise<ApexLsIssue[]> {
  const { stdout } = await run(
    'java',
    ['-cp', CLASSPATH, 'io.github.apexdevtools.apexls.CheckForIssues', '-w', workspace, '-n', '-d', 'warnings', '-f', 'json'],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  ).catch((e: { stdout?: string; stderr?: string; code?: number }) => {
    // CheckForIssues exits non-zero when it finds errors; the JSON on stdout is still the answer.
    if (e.stdout && e.stdout.trim().startsWith('{')) return { stdout: e.stdout };
    throw new Error(`apex-ls failed (exit ${e.code}): ${e.stderr ?? ''}`);
  });
  const text = stdout.trim();
  if (!text) return [];
  const report = JSON.parse(text) as {
    files?: { path: string; messages: { start: { line: number }; category: string; message: string }[] }[];
  };
  return (report.files ?? []).flatMap((f) =>
    f.messages.map((m) => ({ path: f.path, line: m.start.line, category: m.category, message: m.message })),
  );
}

interface RuleMapping {
  readonly severity: number;
  readonly tags: readonly string[];
}

interface PmdRuleInfo {
  readonly name: string;
  readonly languageId: string;
  readonly ruleSetFile: string;
}

export interface PmdViolation {
  readonly rule: string;
  readonly severity: number;
  readonly tags: readonly string[];
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

const SEVERITY_NAMES = ['', 'Critical', 'High', 'Moderate', 'Low', 'Info'];
export const severityName = (s: number): string => SEVERITY_NAMES[s] ?? String(s);

/** Code Analyzer's reviewed severity and tags of each PMD rule. */
function ruleMappings(): Record<string, RuleMapping> {
  const mod = require(join(ENGINE_DIR, 'dist', 'pmd-rule-mappings.js')) as { RULE_MAPPINGS: Record<string, RuleMapping> };
  return mod.RULE_MAPPINGS;
}

/**
 * Runs PMD's Apex rules that Code Analyzer recommends, plus all Security rules, on the given files.
 * @return every violation with Code Analyzer's severity (1 Critical … 5 Info) and tags
 */
export async function pmdViolations(files: readonly string[]): Promise<PmdViolation[]> {
  const work = mkdtempSync(join(tmpdir(), 'sovra-pmd-'));
  try {
    const mappings = ruleMappings();
    const custom = join(work, 'custom.txt');
    writeFileSync(custom, '');
    const ruleInfo = join(work, 'ruleInfo.json');
    await run('java', ['-cp', CLASSPATH, 'com.salesforce.sfca.pmdwrapper.PmdWrapper', 'describe', ruleInfo, custom, 'apex']);
    const rules = (JSON.parse(readFileSync(ruleInfo, 'utf8')) as PmdRuleInfo[]).filter((r) => {
      const m = mappings[r.name];
      return r.languageId === 'apex' && m !== undefined && (m.tags.includes('Recommended') || m.tags.includes('Security'));
    });
    const ruleset = join(work, 'rules.xml');
    writeFileSync(
      ruleset,
      '<?xml version="1.0" encoding="UTF-8"?>\n<ruleset name="sovra" xmlns="http://pmd.sourceforge.net/ruleset/2.0.0" ' +
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://pmd.sourceforge.net/ruleset/2.0.0 https://pmd.sourceforge.io/ruleset_2_0_0.xsd">\n' +
        '<description>Code Analyzer recommended and security Apex rules</description>\n' +
        rules.map((r) => `  <rule ref="${r.ruleSetFile}/${r.name}" />`).join('\n') +
        '\n</ruleset>\n',
    );
    const input = join(work, 'input.json');
    writeFileSync(
      input,
      JSON.stringify({ ruleSetInputFile: ruleset, runDataPerLanguage: { apex: { filesToScan: files.map((f) => resolve(f)) } } }),
    );
    const output = join(work, 'results.json');
    await run('java', ['-cp', CLASSPATH, 'com.salesforce.sfca.pmdwrapper.PmdWrapper', 'run', input, output], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const results = JSON.parse(readFileSync(output, 'utf8')) as {
      violations: { rule: string; message: string; codeLocation: { file: string; startLine: number } }[];
      processingErrors: { file: string; message: string }[];
    };
    if (results.processingErrors.length > 0) {
      throw new Error(`PMD could not process: ${results.processingErrors.map((e) => `${e.file}: ${e.message}`).join('; ')}`);
    }
    return results.violations.map((v) => ({
      rule: v.rule,
      severity: mappings[v.rule]?.severity ?? 3,
      tags: mappings[v.rule]?.tags ?? [],
      file: v.codeLocation.file,
      line: v.codeLocation.startLine,
      message: v.message,
    }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** What the package must not have: any Security finding, or anything above Low severity. */
export function blocking(violations: readonly PmdViolation[]): PmdViolation[] {
  return violations.filter((v) => v.tags.includes('Security') || v.severity < 4);
}
