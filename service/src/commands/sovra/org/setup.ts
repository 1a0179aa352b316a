/**
 * `sf sovra org setup`: is the org ready for Sovra? Package objects and fields, the
 * integration user and its permission set, one filtered platform-event channel per active
 * jurisdiction, and a data classification for every field an active AI action sends. Each
 * check says what is missing and how to fix it; `--fix` assigns what it can (permission set
 * assignments). Exits 1 while anything is missing.
 *
 * The helpers exported here (namespace detection, paginated queries, the running user's
 * custom permissions) are shared by the other org-facing commands.
 */
import type { Connection } from '@salesforce/core';
import { Messages, type SfError } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { parseAction, type ActionDef, type ActionRow } from '../../../pipeline/index.js';
import { soqlString } from '../../../salesforce/index.js';
import { apiNames, CUSTOM_SCHEMA, PERMISSION_SETS, type ApiNames } from '../../../shared/schema.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'org.setup');

export type SObjectRow = Record<string, unknown> & { Id?: string };

/** Every row of a SOQL query, following `nextRecordsUrl` (REST query pagination). */
export async function queryAll(
  conn: Connection,
  soql: string,
  opts: { tooling?: boolean; onPage?: (fetched: number, total: number) => void } = {},
): Promise<SObjectRow[]> {
  const api = opts.tooling ? conn.tooling : conn;
  let res = await api.query<SObjectRow>(soql, { autoFetch: false });
  const rows: SObjectRow[] = [...res.records];
  opts.onPage?.(rows.length, res.totalSize);
  while (!res.done && res.nextRecordsUrl) {
    res = await api.queryMore<SObjectRow>(res.nextRecordsUrl);
    rows.push(...res.records);
    opts.onPage?.(rows.length, res.totalSize);
  }
  return rows;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; errorCode?: string; statusCode?: number } | null;
  return e?.name === 'NOT_FOUND' || e?.errorCode === 'NOT_FOUND' || e?.name === 'INVALID_TYPE' || e?.statusCode === 404;
}

/** Describes an sObject; null when the org has no such object. */
export async function describeOrNull(conn: Connection, sobject: string): Promise<DescribeLite | null> {
  try {
    const d = await conn.describe(sobject);
    return {
      name: d.name,
      fields: d.fields.map((f) => ({ name: f.name, relationshipName: f.relationshipName ?? null, referenceTo: f.referenceTo ?? [] })),
      childRelationships: (d.childRelationships ?? []).map((c) => ({
        relationshipName: c.relationshipName ?? null,
        childSObject: c.childSObject,
      })),
    };
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export interface DescribeLite {
  name: string;
  fields: { name: string; relationshipName: string | null; referenceTo: string[] }[];
  childRelationships: { relationshipName: string | null; childSObject: string }[];
}

/**
 * The package's namespace in this org: the flag when given ('' = unpackaged), otherwise the
 * one under which `AiRequest__c` exists (`sovra__AiRequest__c` in the managed package).
 * Null when the package is not installed.
 */
export async function resolveNamespace(conn: Connection, flag: string | undefined): Promise<{ ns: string; names: ApiNames } | null> {
  const candidates = flag !== undefined ? [flag] : ['sovra', ''];
  for (const ns of candidates) {
    let names: ApiNames;
    try {
      names = apiNames(ns);
    } catch {
      throw messages.createError('error.badNamespace', [ns]);
    }
    if (await describeOrNull(conn, names.name('AiRequest__c'))) return { ns, names };
  }
  return null;
}

/** Throws the standard "package not installed" error. */
export function packageMissing(username: string, flag: string | undefined): SfError {
  return messages.createError('error.packageMissing', [username, flag === undefined ? 'sovra or none' : `'${flag}'`]);
}

/** The id and active flag of a user by username. */
export async function userByUsername(conn: Connection, username: string): Promise<{ id: string; active: boolean } | null> {
  const rows = await queryAll(conn, `SELECT Id, IsActive FROM User WHERE Username = ${soqlString(username)}`);
  const u = rows[0];
  return u ? { id: String(u.Id), active: u.IsActive === true } : null;
}

/**
 * The package's custom permissions a user holds through permission sets, read from the org
 * (PermissionSetAssignment → SetupEntityAccess → CustomPermission), as the pipeline's
 * `loadUserRights` does: only custom permissions of the package's own namespace count.
 */
export async function customPermissionsOf(conn: Connection, ns: string, userId: string): Promise<Set<string>> {
  const out = new Set<string>();
  const assignments = await queryAll(conn, `SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = ${soqlString(userId)}`);
  const psIds = [...new Set(assignments.map((a) => String(a.PermissionSetId)))];
  if (psIds.length === 0) return out;
  const access = (
    await queryAll(
      conn,
      `SELECT ParentId, SetupEntityId, SetupEntityType FROM SetupEntityAccess WHERE ParentId IN (${psIds.map(soqlString).join(', ')})`,
    )
  ).filter((a) => a.SetupEntityType === undefined || a.SetupEntityType === null || a.SetupEntityType === 'CustomPermission');
  const cpIds = [...new Set(access.map((a) => String(a.SetupEntityId)))];
  if (cpIds.length === 0) return out;
  const perms = await queryAll(
    conn,
    `SELECT Id, DeveloperName, NamespacePrefix FROM CustomPermission WHERE Id IN (${cpIds.map(soqlString).join(', ')})`,
  );
  for (const p of perms) {
    const prefix = typeof p.NamespacePrefix === 'string' ? p.NamespacePrefix : '';
    if (prefix === ns) out.add(String(p.DeveloperName));
  }
  return out;
}

export type SetupCheck = {
  /** Stable id: package, integration-user, permission-set:<Name>, channel:<J>, classification:<Action>. */
  id: string;
  ok: boolean;
  detail: string;
  /** How to fix it, when it is not ok. */
  fix?: string;
  /** Set when --fix changed something for this check. */
  fixed?: boolean;
};

export type OrgSetupResult = {
  ok: boolean;
  org: { username: string; orgId: string; namespace: string | null };
  integrationUser: string;
  checks: SetupCheck[];
  /** How many checks --fix repaired. */
  fixed: number;
};

const PACKAGE_OBJECTS = ['AiRequest__c', 'AiAuditEntry__c', 'AiAuditCheckpoint__c', 'AiQuarantine__c'] as const;

export default class OrgSetup extends SfCommand<OrgSetupResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');

  public static override readonly flags = {
    'target-org': Flags.requiredOrg(),
    'api-version': Flags.orgApiVersion(),
    fix: Flags.boolean({ summary: messages.getMessage('flags.fix.summary'), default: false }),
    namespace: Flags.string({ summary: messages.getMessage('flags.namespace.summary') }),
    'integration-user': Flags.string({ summary: messages.getMessage('flags.integration-user.summary') }),
  };

  public async run(): Promise<OrgSetupResult> {
    const { flags } = await this.parse(OrgSetup);
    const org = flags['target-org'];
    const conn = org.getConnection(flags['api-version']);
    const username = org.getUsername() ?? '';
    const integrationUser = flags['integration-user'] ?? username;
    const checks: SetupCheck[] = [];
    this.spinner.start(messages.getMessage('info.checking', [username]));

    const resolved = await resolveNamespace(conn, flags.namespace);
    checks.push(await this.checkPackage(conn, resolved?.names ?? null, flags.namespace));
    if (resolved) {
      const { ns, names } = resolved;
      checks.push(...(await this.checkIntegrationUser(conn, ns, integrationUser, flags.fix)));
      checks.push(...(await this.checkChannels(conn, ns, names)));
      checks.push(...(await this.checkClassification(conn, names)));
    }
    this.spinner.stop();

    const result: OrgSetupResult = {
      ok: checks.every((c) => c.ok),
      org: { username, orgId: org.getOrgId(), namespace: resolved ? resolved.ns : null },
      integrationUser,
      checks,
      fixed: checks.filter((c) => c.fixed).length,
    };
    for (const c of checks) {
      this.log(`${c.ok ? '✓' : '✗'} ${c.id}: ${c.detail}${c.fixed ? ' (fixed)' : ''}`);
      if (!c.ok && c.fix) this.log(`    fix: ${c.fix}`);
    }
    if (!result.ok) {
      const missing = checks.filter((c) => !c.ok);
      const error = messages.createError('error.notReady', [username, missing.length, missing.map((c) => c.id).join(', ')]);
      error.setData(result);
      error.code = 'ORG_NOT_READY';
      throw error;
    }
    this.log(messages.getMessage('info.ready', [username, checks.length, result.fixed]));
    return result;
  }

  private async checkPackage(conn: Connection, names: ApiNames | null, flag: string | undefined): Promise<SetupCheck> {
    if (!names) {
      return {
        id: 'package',
        ok: false,
        detail: messages.getMessage('check.package.missing', [flag === undefined ? 'sovra or none' : `'${flag}'`]),
        fix: messages.getMessage('fix.package'),
      };
    }
    const problems: string[] = [];
    for (const obj of PACKAGE_OBJECTS) {
      const d = await describeOrNull(conn, names.name(obj));
      if (!d) {
        problems.push(`${names.name(obj)} is missing`);
        continue;
      }
      const have = new Set(d.fields.map((f) => f.name.toLowerCase()));
      const missing = CUSTOM_SCHEMA[obj].filter((f) => !have.has(names.name(f).toLowerCase()));
      if (missing.length > 0) problems.push(`${names.name(obj)} lacks ${missing.map((f) => names.name(f)).join(', ')}`);
    }
    return problems.length === 0
      ? {
          id: 'package',
          ok: true,
          detail: messages.getMessage('check.package.ok', [names.prefix || 'no namespace', PACKAGE_OBJECTS.length]),
        }
      : { id: 'package', ok: false, detail: problems.join('; '), fix: messages.getMessage('fix.packageUpgrade') };
  }

  private async checkIntegrationUser(conn: Connection, ns: string, username: string, fix: boolean): Promise<SetupCheck[]> {
    const user = await userByUsername(conn, username);
    if (!user) {
      return [
        {
          id: 'integration-user',
          ok: false,
          detail: messages.getMessage('check.user.missing', [username]),
          fix: messages.getMessage('fix.user'),
        },
      ];
    }
    const out: SetupCheck[] = [
      user.active
        ? { id: 'integration-user', ok: true, detail: messages.getMessage('check.user.ok', [username, user.id]) }
        : {
            id: 'integration-user',
            ok: false,
            detail: messages.getMessage('check.user.inactive', [username]),
            fix: messages.getMessage('fix.userInactive'),
          },
    ];
    const psName = PERMISSION_SETS.integration;
    const id = `permission-set:${psName}`;
    const ps = (await queryAll(conn, `SELECT Id, Name, NamespacePrefix FROM PermissionSet WHERE Name = ${soqlString(psName)}`)).find(
      (p) => (typeof p.NamespacePrefix === 'string' ? p.NamespacePrefix : '') === ns,
    );
    if (!ps) {
      out.push({
        id,
        ok: false,
        detail: messages.getMessage('check.ps.missing', [psName]),
        fix: messages.getMessage('fix.packageUpgrade'),
      });
      return out;
    }
    const assigned = await queryAll(
      conn,
      `SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = ${soqlString(user.id)} AND PermissionSetId = ${soqlString(String(ps.Id))}`,
    );
    if (assigned.length > 0) {
      out.push({ id, ok: true, detail: messages.getMessage('check.ps.ok', [psName, username]) });
      return out;
    }
    const fixText = messages.getMessage('fix.ps', [psName, username]);
    if (!fix) {
      out.push({ id, ok: false, detail: messages.getMessage('check.ps.unassigned', [psName, username]), fix: fixText });
      return out;
    }
    // Permission sets are assigned by inserting PermissionSetAssignment (SOAP/REST object reference).
    const res = await conn.sobject('PermissionSetAssignment').create({ AssigneeId: user.id, PermissionSetId: String(ps.Id) });
    if (res.success) {
      out.push({ id, ok: true, detail: messages.getMessage('check.ps.assigned', [psName, username, res.id]), fixed: true });
    } else {
      const why = res.errors.map((e) => (typeof e === 'string' ? e : `${e.errorCode}: ${e.message}`)).join('; ');
      out.push({
        id,
        ok: false,
        detail: messages.getMessage('check.ps.assignFailed', [psName, username, why]),
        fix: fixText,
        fixed: false,
      });
    }
    return out;
  }

  /**
   * One custom channel per active jurisdiction, with `AiRequest__e` as a filtered member.
   * Listed through the Tooling API, as Salesforce documents it ("List Custom Channels and
   * Channel Members": `SELECT Id, DeveloperName, ChannelType, MasterLabel FROM
   * PlatformEventChannel` and `SELECT … EventChannel, FilterExpression, SelectedEntity FROM
   * PlatformEventChannelMember` on /tooling/query; needs View Setup and Configuration).
   * https://developer.salesforce.com/docs/platform/platform-events/guide/platform-events-custom-channel-list.html
   */
  private async checkChannels(conn: Connection, ns: string, names: ApiNames): Promise<SetupCheck[]> {
    const jurisdictions = (await queryAll(conn, `SELECT DeveloperName, ${names.name('Active__c')} FROM ${names.name('Jurisdiction__mdt')}`))
      .filter((r) => r[names.name('Active__c')] !== false)
      .map((r) => String(r.DeveloperName).toUpperCase());
    if (jurisdictions.length === 0) {
      return [
        {
          id: 'channels',
          ok: false,
          detail: messages.getMessage('check.channel.noJurisdictions'),
          fix: messages.getMessage('fix.packageUpgrade'),
        },
      ];
    }
    const channels = await queryAll(conn, 'SELECT Id, DeveloperName, ChannelType, NamespacePrefix FROM PlatformEventChannel', {
      tooling: true,
    });
    const members = await queryAll(
      conn,
      'SELECT Id, DeveloperName, EventChannel, FilterExpression, SelectedEntity FROM PlatformEventChannelMember',
      {
        tooling: true,
      },
    );
    const event = names.name('AiRequest__e');
    // SelectedEntity may come back as the event's name or its entity id (the docs' sample shows an id).
    const eventIds = (await queryAll(conn, `SELECT DurableId FROM EntityDefinition WHERE QualifiedApiName = ${soqlString(event)}`)).map(
      (e) => String(e.DurableId),
    );
    return jurisdictions.map((j): SetupCheck => {
      const id = `channel:${j}`;
      const dev = `Sovra${j}`;
      const channelName = `${names.prefix}${dev}__chn`;
      const channel = channels.find(
        (c) =>
          String(c.DeveloperName) === dev &&
          (typeof c.NamespacePrefix === 'string' ? c.NamespacePrefix : '') === ns &&
          c.ChannelType !== 'data',
      );
      if (!channel)
        return {
          id,
          ok: false,
          detail: messages.getMessage('check.channel.missing', [channelName]),
          fix: messages.getMessage('fix.channel', [channelName, j]),
        };
      const member = members.find(
        (m) =>
          [channelName, `${dev}__chn`, String(channel.Id)].includes(String(m.EventChannel)) &&
          [event, ...eventIds].includes(String(m.SelectedEntity)),
      );
      if (!member)
        return {
          id,
          ok: false,
          detail: messages.getMessage('check.channel.noMember', [channelName, event]),
          fix: messages.getMessage('fix.channel', [channelName, j]),
        };
      const filter = typeof member.FilterExpression === 'string' ? member.FilterExpression : '';
      if (!new RegExp(`Jurisdiction__c\\s*=\\s*'${j}'`).test(filter)) {
        return {
          id,
          ok: false,
          detail: messages.getMessage('check.channel.badFilter', [channelName, filter || '(none)', j]),
          fix: messages.getMessage('fix.channelFilter', [channelName, names.name('Jurisdiction__c'), j]),
        };
      }
      return { id, ok: true, detail: messages.getMessage('check.channel.ok', [channelName, event, filter]) };
    });
  }

  /** Every field an active action sends must carry a classification: the org's own, or a FieldPolicy__mdt. */
  private async checkClassification(conn: Connection, names: ApiNames): Promise<SetupCheck[]> {
    const n = (f: string): string => names.name(f);
    const rows = await queryAll(
      conn,
      `SELECT DeveloperName, MasterLabel, ${['ObjectApiName__c', 'PromptTemplate__c', 'Fields__c', 'RelatedRecords__c', 'MaxClassification__c', 'RequiredPermission__c', 'Purpose__c', 'Active__c'].map(n).join(', ')} FROM ${n('AiAction__mdt')}`,
    );
    const actions: ActionDef[] = [];
    const out: SetupCheck[] = [];
    for (const r of rows) {
      const row = Object.fromEntries(Object.entries(r).map(([k, v]) => [names.strip(k), v])) as unknown as ActionRow;
      try {
        const a = parseAction(row);
        if (a.active) actions.push(a);
      } catch (err) {
        out.push({
          id: `action:${row.DeveloperName}`,
          ok: false,
          detail: err instanceof Error ? err.message : 'invalid',
          fix: messages.getMessage('fix.action'),
        });
      }
    }
    if (actions.length === 0 && out.length === 0) {
      return [
        {
          id: 'classification',
          ok: false,
          detail: messages.getMessage('check.class.noActions'),
          fix: messages.getMessage('fix.packageUpgrade'),
        },
      ];
    }
    const policies = await queryAll(
      conn,
      `SELECT ${n('ObjectApiName__c')}, ${n('FieldApiName__c')}, ${n('Classification__c')} FROM ${n('FieldPolicy__mdt')}`,
    );
    const covered = new Set(
      policies
        .filter((p) => typeof p[n('Classification__c')] === 'string' && p[n('Classification__c')] !== '')
        .map((p) => `${String(p[n('ObjectApiName__c')])}.${String(p[n('FieldApiName__c')])}`.toLowerCase()),
    );
    const describes = new Map<string, DescribeLite | null>();
    const describe = async (o: string): Promise<DescribeLite | null> => {
      if (!describes.has(o)) describes.set(o, await describeOrNull(conn, o));
      return describes.get(o)!;
    };
    const classes = new Map<string, Map<string, string | null>>();
    const classOf = async (o: string): Promise<Map<string, string | null>> => {
      if (!classes.has(o)) {
        const defs = await queryAll(
          conn,
          `SELECT QualifiedApiName, SecurityClassification FROM FieldDefinition WHERE EntityDefinition.QualifiedApiName = ${soqlString(o)}`,
        );
        classes.set(
          o,
          new Map(
            defs.map((d) => [
              String(d.QualifiedApiName).toLowerCase(),
              typeof d.SecurityClassification === 'string' && d.SecurityClassification !== '' ? d.SecurityClassification : null,
            ]),
          ),
        );
      }
      return classes.get(o)!;
    };
    /** Resolves `Account.Name` on Case to (Account, Name) through the describe's relationship names. */
    const resolvePath = async (object: string, path: string): Promise<{ object: string; field: string } | string> => {
      const parts = path.split('.');
      let obj = object;
      for (const rel of parts.slice(0, -1)) {
        const d = await describe(obj);
        const f = d?.fields.find((x) => x.relationshipName?.toLowerCase() === rel.toLowerCase());
        if (!f || f.referenceTo.length === 0) return `${obj} has no relationship ${rel}`;
        obj = f.referenceTo[0]!;
      }
      return { object: obj, field: parts[parts.length - 1]! };
    };
    for (const a of actions) {
      const targets: { object: string; field: string }[] = [];
      const problems: string[] = [];
      for (const p of a.fields) {
        const r = await resolvePath(a.object, p);
        if (typeof r === 'string') problems.push(r);
        else targets.push(r);
      }
      for (const rel of a.related) {
        const d = await describe(a.object);
        const child = d?.childRelationships.find((c) => c.relationshipName?.toLowerCase() === rel.relationship.toLowerCase());
        if (!child) {
          problems.push(`${a.object} has no child relationship ${rel.relationship}`);
          continue;
        }
        for (const p of rel.fields) {
          const r = await resolvePath(child.childSObject, p);
          if (typeof r === 'string') problems.push(r);
          else targets.push(r);
        }
      }
      const unclassified: string[] = [];
      for (const t of targets) {
        const key = `${t.object}.${t.field}`;
        if (covered.has(key.toLowerCase())) continue;
        const c = (await classOf(t.object)).get(t.field.toLowerCase());
        if (c === undefined) problems.push(`${key} does not exist`);
        else if (c === null && !unclassified.includes(key)) unclassified.push(key);
      }
      const id = `classification:${a.name}`;
      if (problems.length === 0 && unclassified.length === 0) {
        out.push({ id, ok: true, detail: messages.getMessage('check.class.ok', [a.name, targets.length]) });
      } else {
        const detail = [
          ...(unclassified.length > 0
            ? [messages.getMessage('check.class.unclassified', [a.name, unclassified.length, unclassified.join(', ')])]
            : []),
          ...problems,
        ].join('; ');
        out.push({
          id,
          ok: false,
          detail,
          fix: problems.length > 0 ? messages.getMessage('fix.action') : messages.getMessage('fix.classification', [unclassified[0] ?? '']),
        });
      }
    }
    return out;
  }
}
