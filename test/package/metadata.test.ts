/**
 * Offline checks of the package source: every metadata file is well-formed XML, every Apex class
 * and trigger parses with @apexdevtools/apex-parser, and the whole source converts to a Metadata API
 * package with @salesforce/source-deploy-retrieve (what `sf project deploy` and packaging do first).
 */
import { describe, it, expect } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { ApexErrorListener, ApexParserFactory } from '@apexdevtools/apex-parser';
import { ComponentSet, MetadataConverter } from '@salesforce/source-deploy-retrieve';
import { listFiles } from './forceAppSchema.js';

const ROOT = 'force-app';
const files = listFiles(ROOT).filter((f) => !f.includes('node_modules'));

class CollectingListener extends ApexErrorListener {
  readonly errors: string[] = [];
  apexSyntaxError(line: number, column: number, msg: string): void {
    this.errors.push(`${line}:${column} ${msg}`);
  }
}

/** Syntax errors of one Apex source, from lexer and parser. */
export function apexSyntaxErrors(source: string, kind: 'class' | 'trigger'): string[] {
  const listener = new CollectingListener();
  const { parser } = ApexParserFactory.createLexerAndParser(source, listener);
  if (kind === 'trigger') {
    parser.triggerUnit();
  } else {
    parser.compilationUnit();
  }
  return listener.errors;
}

describe('package source', () => {
  const xmlFiles = files.filter((f) => f.endsWith('.xml'));
  const apexFiles = files.filter((f) => f.endsWith('.cls') || f.endsWith('.trigger'));

  it('has the metadata the issue asks for', () => {
    expect(xmlFiles.length).toBeGreaterThan(150);
    expect(apexFiles.length).toBeGreaterThan(30);
  });

  it('every metadata file is well-formed XML with the Metadata API namespace', () => {
    const problems: string[] = [];
    for (const file of xmlFiles) {
      const xml = readFileSync(file, 'utf8');
      const result = XMLValidator.validate(xml);
      if (result !== true) {
        problems.push(`${file}:${result.err.line}: ${result.err.msg}`);
      } else if (!xml.includes('xmlns="http://soap.sforce.com/2006/04/metadata"')) {
        problems.push(`${file}: missing the Metadata API namespace`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the XML check rejects a broken file', () => {
    expect(XMLValidator.validate('<CustomField><fullName>X</fullName>')).not.toBe(true);
  });

  it('every Apex class and trigger parses', () => {
    const problems: string[] = [];
    for (const file of apexFiles) {
      const errors = apexSyntaxErrors(readFileSync(file, 'utf8'), file.endsWith('.trigger') ? 'trigger' : 'class');
      problems.push(...errors.map((e) => `${file}:${e}`));
      if (!existsSync(`${file}-meta.xml`)) {
        problems.push(`${file}: no ${relative('.', file)}-meta.xml`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the Apex check rejects a syntax error', () => {
    expect(apexSyntaxErrors('public class Broken { void x( }', 'class').length).toBeGreaterThan(0);
  });

  it('triggers are one line that delegates to a handler', () => {
    for (const file of apexFiles.filter((f) => f.endsWith('.trigger'))) {
      const body = readFileSync(file, 'utf8').trim().split('\n');
      expect({ file, lines: body.length }).toEqual({ file, lines: 3 });
      expect(body[1]).toMatch(/^\s+new \w+Handler\(\)\.run\(\);$/);
    }
  });

  it('converts to a Metadata API package with source-deploy-retrieve', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sovra-mdapi-'));
    try {
      const set = ComponentSet.fromSource(ROOT);
      const components = set.getSourceComponents().toArray();
      const types = new Set(components.map((c) => c.type.name));
      for (const t of [
        'CustomObject',
        'CustomField',
        'PlatformEventChannel',
        'PlatformEventChannelMember',
        'CustomMetadata',
        'CustomPermission',
        'PermissionSet',
        'ApexClass',
        'ApexTrigger',
        'LightningComponentBundle',
        'ReportType',
        'Report',
        'Dashboard',
      ]) {
        expect(types).toContain(t);
      }
      const result = await new MetadataConverter().convert(set, 'metadata', {
        type: 'directory',
        outputDirectory: out,
        packageName: 'Sovra',
        genUniqueDir: false,
      });
      const pkgDir = result.packagePath ?? join(out, 'Sovra');
      const manifest = readFileSync(join(pkgDir, 'package.xml'), 'utf8');
      expect(manifest).toContain('<name>CustomObject</name>');
      expect(manifest).toContain('<members>AiRequest__c</members>');
      expect(manifest).toContain('<members>SovraEU__chn</members>');
      expect(manifest).toContain('<members>Jurisdiction.EU</members>');
      const object = readFileSync(join(pkgDir, 'objects', 'AiRequest__c.object'), 'utf8');
      expect(object).toContain('<fullName>ExternalId__c</fullName>');
      expect(XMLValidator.validate(object)).toBe(true);
      expect(existsSync(join(pkgDir, 'objects', 'Account.object'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60000);
});
