import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { CONFIG_DESCRIPTIONS, configReferenceMarkdown, configReferenceRows } from './reference.js';

describe('configuration reference', () => {
  it('describes every key the schema accepts, and nothing the schema does not have', () => {
    const paths = configReferenceRows().map((r) => r.path);
    expect(paths.length).toBeGreaterThan(80);
    expect(Object.keys(CONFIG_DESCRIPTIONS).filter((p) => !paths.includes(p))).toEqual([]);
  });

  it('is in README.md exactly as generated (run `npm run docs:config` after changing the schema)', () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = readme.slice(
      readme.indexOf('<!-- config-reference:start -->') + '<!-- config-reference:start -->'.length,
      readme.indexOf('<!-- config-reference:end -->'),
    );
    expect(block.trim()).toBe(configReferenceMarkdown().trim());
  });
});
