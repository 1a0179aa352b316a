/**
 * The sanitize benchmark: the same generated EN/DE/FR CRM corpus through Sovra and the three
 * JavaScript libraries a team would otherwise pick (redact-pii, @openredaction/openredaction,
 * @arcjet/redact), one core each (everything runs on this one Node thread), printing MB/s,
 * entities/s and the share of planted PII each removed per type, plus decoy numbers kept.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import * as sourceModule from '../../service/src/sanitize/index.js';
import type { KnownValue } from '../../service/src/sanitize/index.js';

export type SanitizeModule = Pick<typeof sourceModule, 'createSanitizer' | 'entityTypeForField'>;
import { generateCorpus, PII_TYPES, score } from './sanitizeCorpus.js';
import type { CorpusRecord, Score } from './sanitizeCorpus.js';

export interface ToolResult {
  name: string;
  bytes: number;
  seconds: number;
  score: Score;
  removedTotal: number;
}

type Tool = { name: string; run: (rec: CorpusRecord) => string | Promise<string> };

/** Sovra's tools; `mod` is the sanitize module to measure (the benchmark passes a compiled build). */
export function sovraTools(mod: SanitizeModule = sourceModule): Tool[] {
  const sanitizer = mod.createSanitizer({ countries: ['DE', 'FR', 'GB', 'US', 'AT', 'CH', 'BE', 'NL', 'ES', 'IT', 'IE'] });
  const knownOf = (rec: CorpusRecord): KnownValue[] =>
    Object.entries(rec.fields).map(([name, value]) => ({ value, type: mod.entityTypeForField(name), handling: 'tokenize' as const }));
  return [
    { name: 'sovra (record fields as known values)', run: (rec) => sanitizer.session(knownOf(rec)).sanitize(rec.text).text },
    { name: 'sovra (text only, detectors)', run: (rec) => sanitizer.session().sanitize(rec.text).text },
  ];
}

export async function libraryTools(): Promise<Tool[]> {
  const require = createRequire(import.meta.url);
  const { SyncRedactor } = require('redact-pii') as { SyncRedactor: new () => { redact(t: string): string } };
  const { OpenRedaction } = (await import('@openredaction/openredaction')) as unknown as {
    OpenRedaction: new () => { detect(t: string): { redacted: string } | Promise<{ redacted: string }> };
  };
  const { redact } = await import('@arcjet/redact');
  const rp = new SyncRedactor();
  const or = new OpenRedaction();
  return [
    { name: 'redact-pii', run: (rec) => rp.redact(rec.text) },
    { name: '@openredaction/openredaction', run: async (rec) => (await or.detect(rec.text)).redacted },
    { name: '@arcjet/redact', run: async (rec) => (await redact(rec.text))[0] },
  ];
}

/**
 * Runs a tool over the corpus, repeating until minSeconds for a stable rate; scores the first pass.
 * Time is this process's CPU time (user + system), so other load on the machine does not count
 * against a tool; everything runs on this one thread, so CPU seconds are core seconds.
 */
export async function runTool(tool: Tool, corpus: readonly CorpusRecord[], minSeconds = 0, warmup = 50): Promise<ToolResult> {
  const bytes = corpus.reduce((n, r) => n + Buffer.byteLength(r.text), 0);
  // Warm-up, so the JIT has compiled the hot paths before the clock starts.
  for (let k = 0; k < warmup; k++) await tool.run(corpus[k % corpus.length]);
  const outputs: string[] = [];
  let passes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  do {
    for (let i = 0; i < corpus.length; i++) {
      const out = await tool.run(corpus[i]);
      if (passes === 0) outputs.push(out);
    }
    passes++;
  } while ((performance.now() - t0) / 1000 < minSeconds);
  const cpu = process.cpuUsage(cpu0);
  const seconds = (cpu.user + cpu.system) / 1e6 / passes;
  const s = score(corpus, outputs);
  const removedTotal = Object.values(s.perType).reduce((n, t) => n + t.removed, 0);
  return { name: tool.name, bytes, seconds, score: s, removedTotal };
}

const pct = (a: number, b: number): string => (b === 0 ? '   -  ' : `${((100 * a) / b).toFixed(1).padStart(5)}%`);

export function report(results: readonly ToolResult[]): string {
  const lines: string[] = [];
  const w = 40;
  lines.push(`${'tool'.padEnd(w)}     MB/s   entities/s   decoys kept`);
  for (const r of results) {
    lines.push(
      `${r.name.padEnd(w)} ${(r.bytes / 1e6 / r.seconds).toFixed(1).padStart(8)} ${Math.round(r.removedTotal / r.seconds)
        .toString()
        .padStart(12)}   ${pct(r.score.decoys.intact, r.score.decoys.planted)}`,
    );
  }
  lines.push('');
  lines.push(`planted PII removed, per type (n = planted values)`);
  const names = results.map((r, i) => `[${i + 1}]`);
  lines.push(`${'type'.padEnd(16)} ${'n'.padStart(6)} ${names.map((n) => n.padStart(8)).join('')}`);
  for (const t of PII_TYPES) {
    const n = results[0].score.perType[t].planted;
    lines.push(`${t.padEnd(16)} ${String(n).padStart(6)} ${results.map((r) => pct(r.score.perType[t].removed, n).padStart(8)).join('')}`);
  }
  lines.push('');
  results.forEach((r, i) => lines.push(`[${i + 1}] ${r.name}`));
  lines.push(
    'MB/s over UTF-8 bytes of note text per CPU second of this single Node thread; entities/s = planted PII values removed per CPU second.',
  );
  return lines.join('\n');
}

export async function main(records = 4000, mod: SanitizeModule = sourceModule): Promise<void> {
  const corpus = generateCorpus(records);
  const bytes = corpus.reduce((n, r) => n + Buffer.byteLength(r.text), 0);
  const planted = corpus.reduce((n, r) => n + r.pii.length, 0);
  process.stdout.write(
    `corpus: ${corpus.length} EN/DE/FR notes, ${(bytes / 1e6).toFixed(2)} MB, ${planted} planted PII values, node ${process.version}\n\n`,
  );
  const results: ToolResult[] = [];
  for (const tool of sovraTools(mod)) results.push(await runTool(tool, corpus, 3, 3 * corpus.length));
  for (const tool of await libraryTools()) results.push(await runTool(tool, corpus, 0, 100));
  process.stdout.write(report(results) + '\n');

  // The same generator with PII in one sentence of ten: closer to a typical activity log.
  const sparse = generateCorpus(records, 43, 0.1);
  const sparseBytes = sparse.reduce((n, r) => n + Buffer.byteLength(r.text), 0);
  const sparsePlanted = sparse.reduce((n, r) => n + r.pii.length, 0);
  process.stdout.write(`\nsparser corpus (one PII value per ${Math.round(sparseBytes / sparsePlanted)} bytes), Sovra only:\n`);
  for (const tool of sovraTools(mod)) {
    const r = await runTool(tool, sparse, 3, 3 * sparse.length);
    const removed = Object.values(r.score.perType).reduce((n, t) => n + t.removed, 0);
    process.stdout.write(
      `  ${tool.name.padEnd(40)} ${(r.bytes / 1e6 / r.seconds).toFixed(1).padStart(6)} MB/s, ${pct(removed, sparsePlanted)} of planted PII removed, ${pct(r.score.decoys.intact, r.score.decoys.planted)} decoys kept\n`,
    );
  }
}
