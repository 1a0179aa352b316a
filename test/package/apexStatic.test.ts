/**
 * The package's Apex passes semantic analysis (apex-ls) with no issue, and Code Analyzer's PMD rules
 * report no security finding (CRUD/FLS, sharing, SOQL injection, …) and nothing above Low severity.
 * Each check is also run on a deliberately broken copy, so a check that silently stopped working
 * would fail here instead of passing.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apexLsIssues, blocking, pmdViolations, severityName } from './apexStatic.js';
import { listFiles } from './forceAppSchema.js';

const APEX = listFiles('force-app').filter((f) => f.endsWith('.cls') || f.endsWith('.trigger'));
const CLASS_META =
  '<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>65.0</apiVersion><status>Active</status></ApexClass>\n';

describe('Apex static analysis (Java 17, @salesforce/code-analyzer-pmd-engine)', () => {
  let broken: string;

  beforeAll(() => {
    broken = mkdtempSync(join(tmpdir(), 'sovra-apex-'));
    cpSync('force-app', join(broken, 'force-app'), { recursive: true });
    writeFileSync(join(broken, 'sfdx-project.json'), readFileSync('sfdx-project.json'));
    writeFileSync(
      join(broken, 'force-app', 'main', 'core', 'classes', 'BrokenOnPurpose.cls'),
      [
        'public class BrokenOnPurpose {',
        '  public static List<SObject> leak(String name) {',
        "    AiRequest__c r = new AiRequest__c(NoSuchField__c = 'x');",
        '    SovraPermissions.noSuchMethod();',
        "    return Database.query('SELECT Id FROM Account WHERE Name = \\'' + name + '\\'');",
        '  }',
        '}',
      ].join('\n'),
    );
    writeFileSync(join(broken, 'force-app', 'main', 'core', 'classes', 'BrokenOnPurpose.cls-meta.xml'), CLASS_META);
  });

  afterAll(() => {
    rmSync(broken, { recursive: true, force: true });
  });

  // One apex-ls run and one PMD run over the package plus one deliberately broken class: the
  // package must be clean, and the broken class must be caught (so the check cannot pass vacuously).
  const brokenFile = (): string => join(broken, 'force-app', 'main', 'core', 'classes', 'BrokenOnPurpose.cls');

  it('apex-ls resolves every type, field and method of the package, and catches a broken class', async () => {
    const issues = await apexLsIssues(broken);
    const inPackage = issues.filter((i) => !i.path.endsWith('BrokenOnPurpose.cls'));
    expect(inPackage.map((i) => `${i.path}:${i.line} ${i.category}: ${i.message}`)).toEqual([]);
    const caught = issues
      .filter((i) => i.path.endsWith('BrokenOnPurpose.cls'))
      .map((i) => i.message)
      .join('\n');
    expect(caught).toContain("Unknown field 'NoSuchField__c'");
    expect(caught).toContain("'noSuchMethod'");
  }, 120000);

  it('PMD: no security finding and nothing above Low severity in the package; the broken class is caught', async () => {
    const violations = await pmdViolations([...APEX, brokenFile()]);
    const inPackage = blocking(violations.filter((v) => !v.file.endsWith('BrokenOnPurpose.cls')));
    expect(inPackage.map((v) => `${v.file}:${v.line} ${v.rule} (${severityName(v.severity)}): ${v.message}`)).toEqual([]);
    const caught = blocking(violations.filter((v) => v.file.endsWith('BrokenOnPurpose.cls'))).map((v) => v.rule);
    expect(caught).toEqual(expect.arrayContaining(['ApexSOQLInjection', 'ApexSharingViolations']));
  }, 120000);
});
