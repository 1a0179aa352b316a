// `npm run bench:sanitize:instructions [-- <records>]`: machine instructions per note for Sovra's
// sanitizer on the benchmark's two corpora, counted by valgrind (cachegrind, no cache simulation)
// under `node --predictable` (no concurrent compiler or GC threads), in children that run this
// script bundled (see sanitizeBundle.ts). Unlike time on a shared machine, a build's count repeats
// within 0.2%, so it tells whether a change made the sanitizer do less work. It counts
// instructions, not cache misses, stalls or megamorphic look-ups: time is still what
// `npm run bench:sanitize` measures. Each count is the difference between a run of 9 passes and
// one of 3 over the corpus, so start-up, compilation and warm-up cancel out.
import { spawn, spawnSync } from 'node:child_process';
import { CORPORA, sovraTools } from '../test/bench/sanitizeBench.js';
import { generateCorpus } from '../test/bench/sanitizeCorpus.js';
import { recordsArg, withBundledScript } from './sanitizeBundle.js';

// With fewer notes, V8 is still compiling during the counted passes (100 notes count five times as many).
const records = recordsArg('bench:sanitize:instructions', 1000, 1000);

const child = process.env.SOVRA_ICOUNT_RUN;
if (child) {
  // One run: corpus, tool and passes; the count is valgrind's.
  const [ci, ti, passes] = child.split(':').map(Number);
  const c = CORPORA[ci];
  const corpus = generateCorpus(records, c.seed, c.piiShare);
  const tool = sovraTools()[ti];
  for (let p = 0; p < passes; p++) for (const rec of corpus) tool.run(rec);
} else {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    process.stderr.write('valgrind is not installed: apt-get install valgrind (Debian), then run this again.\n');
    process.exit(2);
  }
  await withBundledScript(import.meta.url, async (bundle) => {
    const count = (ci: number, ti: number, passes: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const args = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, '--predictable'];
        const p = spawn('valgrind', [...args, bundle, String(records)], {
          env: { ...process.env, SOVRA_ICOUNT_RUN: `${ci}:${ti}:${passes}` },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('close', (code) => {
          const m = /I\s+refs:\s+([\d,]+)/.exec(err);
          if (code !== 0 || !m) reject(new Error(`valgrind run ${ci}:${ti}:${passes} failed (exit ${code}):\n${err.slice(-2000)}`));
          else resolve(Number(m[1].replace(/,/g, '')));
        });
      });
    const tools = sovraTools().map((t) => t.name);
    process.stdout.write(`node ${process.version}; ${records} notes per corpus; instructions per note (passes 4-9)\n\n`);
    for (let ci = 0; ci < CORPORA.length; ci++) {
      const c = CORPORA[ci];
      const bytes = generateCorpus(records, c.seed, c.piiShare).reduce((n, r) => n + Buffer.byteLength(r.text), 0);
      for (let ti = 0; ti < tools.length; ti++) {
        // Two at a time: the count does not depend on what else runs.
        const [three, nine] = await Promise.all([count(ci, ti, 3), count(ci, ti, 9)]);
        const perNote = (nine - three) / (6 * records);
        process.stdout.write(
          `${c.title.padEnd(26)} ${tools[ti].padEnd(40)} ${Math.round(perNote).toString().padStart(8)} per note  ${(perNote / (bytes / records)).toFixed(1).padStart(6)} per byte\n`,
        );
      }
    }
  });
}
