/**
 * `sovra quarantine release|purge` with a stubbed org (TestContext from @salesforce/core):
 * the running user's custom permissions are read from the org, a look-alike permission of
 * another namespace does not count, and nothing is written when the check fails.
 */
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { MockTestOrgData, TestContext } from '@salesforce/core/testSetup';
import type { AnyJson } from '@salesforce/ts-types';
import QuarantinePurge from './purge.js';
import QuarantineRelease from './release.js';

const ROOT = resolve('.');
const USER_ID = '005000000000001AAA';
const PS_ID = '0PS000000000001AAA';
const CP_ID = '0CP000000000001AAA';
const Q_ID = 'a0Q000000000001AAA';

interface Call {
  method: string;
  url: string;
  body?: string;
}

function notFound(): Error {
  return Object.assign(new Error('The requested resource does not exist'), { name: 'NOT_FOUND', errorCode: 'NOT_FOUND' });
}

describe('sovra quarantine (TestContext)', () => {
  const $$ = new TestContext();
  const testOrg = new MockTestOrgData();
  let calls: Call[];
  let perms: { name: string; ns: string | null }[];
  let status: string;

  beforeEach(async () => {
    await $$.stubAuths(testOrg);
    $$.stubAliases({});
    calls = [];
    perms = [];
    status = 'Open';
    $$.fakeConnectionRequest = (request: AnyJson): Promise<AnyJson> => {
      const r = (typeof request === 'string' ? { url: request, method: 'GET' } : request) as unknown as Call;
      calls.push({ method: r.method ?? 'GET', url: r.url, body: r.body });
      const url = decodeURIComponent(r.url);
      const rows = (records: Record<string, unknown>[]): Promise<AnyJson> =>
        Promise.resolve({ totalSize: records.length, done: true, records } as unknown as AnyJson);
      if (/\/sobjects\/sovra__AiRequest__c\/describe/.test(url)) return Promise.reject(notFound());
      if (/\/sobjects\/AiRequest__c\/describe/.test(url))
        return Promise.resolve({ name: 'AiRequest__c', fields: [], childRelationships: [] });
      if (url.includes('FROM User ')) return rows([{ Id: USER_ID, IsActive: true }]);
      if (url.includes('FROM PermissionSetAssignment')) return rows(perms.length ? [{ PermissionSetId: PS_ID }] : []);
      if (url.includes('FROM SetupEntityAccess'))
        return rows(
          perms.map((_p, i) => ({ ParentId: PS_ID, SetupEntityId: `${CP_ID.slice(0, -1)}${i}`, SetupEntityType: 'CustomPermission' })),
        );
      if (url.includes('FROM CustomPermission'))
        return rows(perms.map((p, i) => ({ Id: `${CP_ID.slice(0, -1)}${i}`, DeveloperName: p.name, NamespacePrefix: p.ns })));
      if (url.includes('FROM AiQuarantine__c'))
        return rows([
          {
            Id: Q_ID,
            Name: 'QUA-000000001',
            Status__c: status,
            RecordId__c: '001000000000001AAA',
            ObjectApiName__c: 'Account',
            RequestId__c: null,
            ExpectedJurisdiction__c: 'EU',
          },
        ]);
      if (r.method === 'PATCH' && url.includes('/composite/sobjects'))
        return Promise.resolve([{ id: Q_ID, success: true, errors: [] }] as unknown as AnyJson);
      return Promise.reject(new Error(`unexpected request ${r.method} ${url}`));
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.exitCode = undefined;
  });

  const writes = (): Call[] => calls.filter((c) => c.method !== 'GET');

  it('refuses a user without AiQuarantineRelease and writes nothing', async () => {
    await expect(QuarantineRelease.run(['--target-org', testOrg.username, '--id', Q_ID, '--json'], ROOT)).rejects.toMatchObject({
      message: expect.stringMatching(/lacks the custom permission AiQuarantineRelease/),
      actions: expect.arrayContaining([expect.stringMatching(/SovraAdmin/)]),
    });
    expect(writes()).toEqual([]);
  });

  it('does not count a look-alike permission of another namespace', async () => {
    perms = [{ name: 'AiQuarantineRelease', ns: 'evil' }];
    await expect(QuarantineRelease.run(['--target-org', testOrg.username, '--id', Q_ID, '--json'], ROOT)).rejects.toThrow(
      /lacks the custom permission/,
    );
    expect(writes()).toEqual([]);
  });

  it('purge needs AiAdmin as well', async () => {
    perms = [{ name: 'AiQuarantineRelease', ns: null }];
    await expect(QuarantinePurge.run(['--target-org', testOrg.username, '--id', Q_ID, '--json'], ROOT)).rejects.toThrow(
      /lacks the custom permission AiAdmin/,
    );
    expect(writes()).toEqual([]);
  });

  it('releases with the permission: Status, ResolvedBy and ResolvedAt in one all-or-none call', async () => {
    perms = [{ name: 'AiQuarantineRelease', ns: null }];
    const r = await QuarantineRelease.run(['--target-org', testOrg.username, '--id', Q_ID, '--json'], ROOT);
    expect(r).toMatchObject({ operation: 'release', status: 'Released', resolvedBy: USER_ID, audit: { chained: false } });
    const [w] = writes();
    expect(w!.method).toBe('PATCH');
    const body = JSON.parse(w!.body!);
    expect(body.allOrNone).toBe(true);
    expect(body.records[0]).toMatchObject({
      id: Q_ID,
      attributes: { type: 'AiQuarantine__c' },
      Status__c: 'Released',
      ResolvedBy__c: USER_ID,
    });
    expect(Date.parse(body.records[0].ResolvedAt__c)).not.toBeNaN();
  });

  it('refuses to release an entry that is not Open', async () => {
    perms = [{ name: 'AiQuarantineRelease', ns: null }];
    status = 'Purged';
    await expect(QuarantineRelease.run(['--target-org', testOrg.username, '--id', Q_ID, '--json'], ROOT)).rejects.toThrow(
      /is Purged; only Open entries can be released/,
    );
    expect(writes()).toEqual([]);
  });
});
