/** Rewrites the configuration reference in README.md from the zod schema (`npm run docs:config`). */
import { readFileSync, writeFileSync } from 'node:fs';
import { configReferenceMarkdown } from '../service/src/config/reference.js';

const START = '<!-- config-reference:start -->';
const END = '<!-- config-reference:end -->';
const readme = readFileSync('README.md', 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) throw new Error(`README.md has no ${START} … ${END} block`);
writeFileSync('README.md', `${readme.slice(0, a + START.length)}\n${configReferenceMarkdown()}\n${readme.slice(b)}`);
