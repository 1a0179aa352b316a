/**
 * `sf sovra org setup` with a stubbed org (TestContext from @salesforce/core): a managed
 * package (sovra__) is found and checked, --fix inserts the PermissionSetAssignment, and an
 * org without the package fails with the fix.
 */
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { MockTestOrgData, TestContext } from '@salesforce/core/testSetup';
import type { AnyJson } from '@salesforce/ts-types';
import { CUSTOM_SCHEMA } from '../../../shared/schema.js';
import OrgSetup, { type OrgSetupResult } from './setup.js';

const ROOT = resolve('.');
const USER_ID = '005000000000001AAA';
const PS_ID = '0PS000000000001AAA';

interface Call {
  method: string;
  url: string;
  body?: string;
}

const notFound = (): Error =>
  Object.assign(new Error('The requested resource does not exist'), { name: 'NOT_FOUND', errorCode: 'NOT_FOUND' });
const rows = (records: Record<string, unknown>[]): Promise<AnyJson> =>
  Promise.resolve({ totalSize: records.length, done: true, records } as unknown as AnyJson);

describe('sovra org setup (TestContext)', () => {
  const $$ = new TestContext();
  const testOrg = new MockTestOrgData();
  let calls: Call[];
  let installed: boolean;
  let assigned: boolean;

  beforeEach(async () => {
    await $$.stubAuths(testOrg);
    $$.stubAliases({});
    calls = [];
    installed = true;
    assigned = false;
    $$.fakeConnectionRequest = (request: AnyJson): Promise<AnyJson> => {
      const r = (typeof request === 'string' ? { url: request, method: 'GET' } : request) as unknown as Call;
      calls.push({ method: r.method ?? 'GET', url: r.url, body: r.body });
      const url = decodeURIComponent(r.url);
      const d = /\/sobjects\/([A-Za-z0-9_]+)\/describe/.exec(url);
      if (d) {
        const name = d[1]!;
        const bare = name.replace(/^sovra__/, '') as keyof typeof CUSTOM_SCHEMA;
        if (name.startsWith('sovra__') && installed && CUSTOM_SCHEMA[bare]) {
          return Promise.resolve({
            name,
            fields: CUSTOM_SCHEMA[bare].map((f) => ({ name: `sovra__${f}` })),
            childRelationships: [],
          } as unknown as AnyJson);
        }
        if (name === 'Account') return Promise.resolve({ name, fields: [{ name: 'Name' }], childRelationships: [] } as unknown as AnyJson);
        return Promise.reject(notFound());
      }
      if (r.method === 'POST' && url.endsWith('/sobjects/PermissionSetAssignment')) {
        assigned = true;
        return Promise.resolve({ id: '0Pa000000000001AAA', success: true, errors: [] });
      }
      if (url.includes('FROM User ')) return rows([{ Id: USER_ID, IsActive: true }]);
      if (url.includes('FROM PermissionSetAssignment')) return rows(assigned ? [{ Id: '0Pa000000000001AAA' }] : []);
      if (url.includes('FROM PermissionSet ')) return rows([{ Id: PS_ID, Name: 'SovraIntegration', NamespacePrefix: 'sovra' }]);
      if (url.includes('FROM sovra__Jurisdiction__mdt')) return rows([{ DeveloperName: 'EU', sovra__Active__c: true }]);
      if (url.includes('/tooling/query') && url.includes('FROM PlatformEventChannelMember'))
        return rows([
          { EventChannel: 'sovra__SovraEU__chn', SelectedEntity: 'sovra__AiRequest__e', FilterExpression: "sovra__Jurisdiction__c = 'EU'" },
        ]);
      if (url.includes('/tooling/query') && url.includes('FROM PlatformEventChannel'))
        return rows([{ Id: '0YL000000000001AAA', DeveloperName: 'SovraEU', ChannelType: 'event', NamespacePrefix: 'sovra' }]);
      if (url.includes('FROM EntityDefinition')) return rows([{ DurableId: '01I000000000001' }]);
      if (url.includes('FROM sovra__AiAction__mdt'))
        return rows([
          {
            DeveloperName: 'AccountSummary',
            MasterLabel: 'Account summary',
            sovra__ObjectApiName__c: 'Account',
            sovra__PromptTemplate__c: 'Summarize {{Name}}',
            sovra__Fields__c: 'Name',
            sovra__RelatedRecords__c: null,
            sovra__MaxClassification__c: 'Confidential',
            sovra__RequiredPermission__c: 'AiInference',
            sovra__Purpose__c: 'infer',
            sovra__Active__c: true,
          },
        ]);
      if (url.includes('FROM sovra__FieldPolicy__mdt')) return rows([]);
      if (url.includes('FROM FieldDefinition')) return rows([{ QualifiedApiName: 'Name', SecurityClassification: 'Public' }]);
      return Promise.reject(new Error(`unexpected request ${r.method} ${url}`));
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('finds the managed package and assigns SovraIntegration with --fix', async () => {
    const r: OrgSetupResult = await OrgSetup.run(['--target-org', testOrg.username, '--fix', '--json'], ROOT);
    expect(r).toMatchObject({ ok: true, fixed: 1, org: { namespace: 'sovra' } });
    expect(r.checks.map((c) => `${c.id}:${c.ok}`)).toEqual([
      'package:true',
      'integration-user:true',
      'permission-set:SovraIntegration:true',
      'channel:EU:true',
      'classification:AccountSummary:true',
    ]);
    const post = calls.find((c) => c.method === 'POST')!;
    expect(JSON.parse(post.body!)).toEqual({ AssigneeId: USER_ID, PermissionSetId: PS_ID });
    expect(calls.some((c) => c.url.includes('/tooling/query'))).toBe(true);
  });

  it('without --fix, reports the unassigned permission set with its fix and assigns nothing', async () => {
    const err = (await OrgSetup.run(['--target-org', testOrg.username, '--json'], ROOT).catch((e: unknown) => e)) as {
      code: string;
      data: OrgSetupResult;
    };
    expect(err.code).toBe('ORG_NOT_READY');
    expect(err.data.checks.find((c) => c.id === 'permission-set:SovraIntegration')).toMatchObject({
      ok: false,
      fix: expect.stringMatching(/--fix/),
    });
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
  });

  it('fails when the package is not installed', async () => {
    installed = false;
    const err = (await OrgSetup.run(['--target-org', testOrg.username, '--json'], ROOT).catch((e: unknown) => e)) as {
      code: string;
      data: OrgSetupResult;
    };
    expect(err.code).toBe('ORG_NOT_READY');
    expect(err.data.checks).toEqual([
      expect.objectContaining({ id: 'package', ok: false, fix: expect.stringMatching(/Install the Sovra package/) }),
    ]);
  });
});
