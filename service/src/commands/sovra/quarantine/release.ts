/**
 * `sf sovra quarantine release|purge`: resolve quarantined records from the CLI with the same
 * rules as the package's QuarantineService (force-app/main/quarantine/classes): release needs
 * the custom permission AiQuarantineRelease and only Open entries; purge needs
 * AiQuarantineRelease and AiAdmin, refuses Purged entries, and erases the question and answer
 * of the request that hit the quarantine. Rights are read from the org for the running user
 * (PermissionSetAssignment → SetupEntityAccess → CustomPermission), never assumed. Writes are
 * all-or-none composite collections in the user's own rights.
 *
 * Audit: the package's Apex writes no audit entry for a release or purge (it stamps
 * ResolvedBy__c/ResolvedAt__c only; AiQuarantine__c has no field history). With --config the
 * command appends one hash-chained entry per resolved item to the deployment's audit chain
 * through `AuditLog` (it reaches AiAuditEntry__c through the sidecar's outbox); without it,
 * it says so.
 */
import type { Connection, Org } from '@salesforce/core';
import { Messages } from '@salesforce/core';
import { Flags, SfCommand } from '@salesforce/sf-plugins-core';
import { AuditLog } from '../../../audit/index.js';
import { loadConfig } from '../../../config/index.js';
import { createKeyService } from '../../../keys/index.js';
import { soqlString } from '../../../salesforce/index.js';
import { configureLogging } from '../../../shared/log.js';
import { CUSTOM_PERMISSIONS, type ApiNames } from '../../../shared/schema.js';
import { openStore } from '../../../store/index.js';
import { customPermissionsOf, packageMissing, queryAll, resolveNamespace, userByUsername } from '../org/setup.js';
import { quarantineSelect, toItem, type QuarantineItem } from './list.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('sovra', 'quarantine.release');

export type QuarantineResolveResult = {
  operation: 'release' | 'purge';
  status: 'Released' | 'Purged';
  resolvedBy: string;
  resolvedAt: string;
  items: QuarantineItem[];
  /** AiRequest__c rows whose question and answer were erased (purge). */
  erasedRequests: string[];
  audit: {
    /** Whether hash-chained audit entries were appended (needs --config). */
    chained: boolean;
    tenant: string | null;
    chainId: string | null;
    sequences: number[];
    note: string;
  };
};

const ID = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;

export const resolveFlags = {
  'target-org': Flags.requiredOrg(),
  'api-version': Flags.orgApiVersion(),
  id: Flags.string({ char: 'i', summary: messages.getMessage('flags.id.summary'), required: true, multiple: true }),
  config: Flags.file({ char: 'c', summary: messages.getMessage('flags.config.summary'), exists: true }),
  tenant: Flags.string({ char: 't', summary: messages.getMessage('flags.tenant.summary') }),
  namespace: Flags.string({ summary: messages.getMessage('flags.namespace.summary') }),
};

type ResolveFlags = {
  'target-org': Org;
  'api-version'?: string;
  id: string[];
  config?: string;
  tenant?: string;
  namespace?: string;
};

interface ChainTarget {
  audit: AuditLog;
  tenant: string;
  jurisdiction: string;
  close(): Promise<void>;
}

async function openChain(file: string, orgId: string, tenantFlag: string | undefined): Promise<ChainTarget> {
  // The store and key service log their routine steps; a CLI run shows only warnings, on
  // stderr, so that --json output on stdout stays parseable.
  configureLogging({ level: 'warn', stream: process.stderr });
  const cfg = loadConfig(file);
  const tenant = tenantFlag
    ? cfg.tenants.find((t) => t.id === tenantFlag)
    : cfg.tenants.find((t) => t.orgId.slice(0, 15) === orgId.slice(0, 15));
  if (!tenant) throw messages.createError('error.noTenant', [file, tenantFlag ?? orgId]);
  if (tenant.orgId.slice(0, 15) !== orgId.slice(0, 15)) throw messages.createError('error.tenantOrg', [tenant.id, tenant.orgId, orgId]);
  const j = cfg.deployment.jurisdiction;
  const keys = await createKeyService(j, cfg.jurisdictions[j]!.keys, { baseDir: cfg.baseDir });
  let store;
  try {
    store = await openStore(cfg.store, { baseDir: cfg.baseDir });
  } catch (err) {
    await keys.close();
    throw err;
  }
  const audit = new AuditLog({ store, keys, tenant: tenant.id, region: cfg.deployment.region, namespace: tenant.namespace });
  return {
    audit,
    tenant: tenant.id,
    jurisdiction: j,
    close: async () => {
      await store.close();
      await keys.close();
    },
  };
}

type TypedRow = { type: string; Id: string } & Record<string, unknown>;

/**
 * One all-or-none sObject collections call per group of rows (at most 200, types may be mixed):
 * either every row of the group changes or none does, as in the Apex service's savepoint.
 */
async function update(conn: Connection, groups: TypedRow[][], what: string): Promise<void> {
  for (const group of groups) {
    if (group.length === 0) continue;
    const records = group.map(({ type, Id, ...fields }) => ({ attributes: { type }, id: Id, ...fields }));
    const results = await conn.request<{ success: boolean; errors?: { statusCode?: string; message?: string }[] }[]>({
      method: 'PATCH',
      url: `/services/data/v${conn.getApiVersion()}/composite/sobjects`,
      body: JSON.stringify({ allOrNone: true, records }),
      headers: { 'content-type': 'application/json' },
    });
    const failed = (Array.isArray(results) ? results : [results]).filter((r) => !r.success);
    if (failed.length > 0) {
      const why = failed
        .flatMap((r) => r.errors ?? [])
        .filter((e) => e.statusCode !== 'ALL_OR_NONE_OPERATION_ROLLED_BACK')
        .map((e) => `${e.statusCode ?? 'ERROR'}: ${e.message ?? ''}`)
        .join('; ');
      throw messages.createError('error.writeFailed', [what, why || 'rejected']);
    }
  }
}

/** The shared body of release and purge. */
export async function resolveQuarantine(
  cmd: SfCommand<QuarantineResolveResult>,
  flags: ResolveFlags,
  operation: 'release' | 'purge',
): Promise<QuarantineResolveResult> {
  const org = flags['target-org'];
  const conn = org.getConnection(flags['api-version']);
  const username = org.getUsername() ?? '';
  const ids = [...new Set(flags.id.map((i) => i.trim()))];
  const bad = ids.filter((i) => !ID.test(i));
  if (bad.length > 0) throw messages.createError('error.badId', [bad.join(', ')]);

  const resolved = await resolveNamespace(conn, flags.namespace);
  if (!resolved) throw packageMissing(username, flags.namespace);
  const { ns, names } = resolved;

  const user = await userByUsername(conn, username);
  if (!user) throw messages.createError('error.noUser', [username]);
  const held = await customPermissionsOf(conn, ns, user.id);
  const needed =
    operation === 'release' ? [CUSTOM_PERMISSIONS.quarantineRelease] : [CUSTOM_PERMISSIONS.quarantineRelease, CUSTOM_PERMISSIONS.admin];
  const lacking = needed.filter((p) => !held.has(p));
  if (lacking.length > 0) {
    throw messages.createError('error.forbidden', [username, operation, lacking.map((p) => names.permission(p)).join(' and ')]);
  }

  const rows = await queryAll(conn, `${quarantineSelect(names)} WHERE Id IN (${ids.map(soqlString).join(', ')})`);
  const items = rows.map((r) => toItem(r, names));
  const found = new Set(items.flatMap((i) => [i.id, i.id.slice(0, 15)]));
  const missing = ids.filter((i) => !found.has(i) && !found.has(i.slice(0, 15)));
  if (missing.length > 0) throw messages.createError('error.notFound', [missing.join(', ')]);
  for (const i of items) {
    if (operation === 'release' && i.status !== 'Open') throw messages.createError('error.notOpen', [i.name, i.status ?? 'empty']);
    if (operation === 'purge' && i.status === 'Purged') throw messages.createError('error.alreadyPurged', [i.name]);
  }

  // Open the audit chain before touching the org, so a bad --config changes nothing.
  const chain = flags.config ? await openChain(flags.config, org.getOrgId(), flags.tenant) : undefined;
  try {
    if (chain) {
      const foreign = items.filter((i) => i.expectedJurisdiction !== null && i.expectedJurisdiction !== chain.jurisdiction);
      if (foreign.length > 0) {
        throw messages.createError('error.otherDeployment', [
          foreign.map((i) => `${i.name} (${i.expectedJurisdiction})`).join(', '),
          chain.jurisdiction,
        ]);
      }
    }
    const status = operation === 'release' ? 'Released' : 'Purged';
    const resolvedAt = new Date().toISOString();
    cmd.spinner.start(messages.getMessage('info.writing', [operation, items.length]));
    // A purge erases the requests' question and answer and marks the entries Purged in the same
    // all-or-none call (100 entries a call), so no entry is Purged with its request unerased or the reverse.
    const erase = operation === 'purge' ? await requestsToErase(conn, names, items) : new Map<string, string[]>();
    const erased = [...new Set([...erase.values()].flat())];
    const groups: TypedRow[][] = [];
    for (let i = 0; i < items.length; i += 100) {
      const chunk = items.slice(i, i + 100);
      const requestIds = [...new Set(chunk.flatMap((q) => erase.get(q.id) ?? []))];
      groups.push([
        ...requestIds.map((id) => ({
          type: names.name('AiRequest__c'),
          Id: id,
          [names.name('Question__c')]: null,
          [names.name('Answer__c')]: null,
        })),
        ...chunk.map((q) => ({
          type: names.name('AiQuarantine__c'),
          Id: q.id,
          [names.name('Status__c')]: status,
          [names.name('ResolvedBy__c')]: user.id,
          [names.name('ResolvedAt__c')]: resolvedAt,
        })),
      ]);
    }
    await update(conn, groups, operation === 'purge' ? 'erase the requests and mark the entries Purged' : `mark the entries ${status}`);
    cmd.spinner.stop(status);

    const sequences: number[] = [];
    if (chain) {
      try {
        for (const i of items) {
          const e = await chain.audit.record({
            eventType: operation === 'release' ? 'quarantine.released' : 'quarantine.purged',
            decision: operation === 'release' ? 'allow' : 'info',
            requestId: i.requestId,
            recordId: i.recordId,
            actorId: user.id,
            reason: `Quarantine entry ${i.name} ${status.toLowerCase()} with sf sovra quarantine ${operation}.`,
            details: {
              operation: `quarantine.${operation}`,
              quarantineId: i.id,
              quarantineName: i.name,
              previousStatus: i.status,
              status,
              erasedRequest: operation === 'purge' ? erased.length > 0 : null,
            },
          });
          sequences.push(e.seq);
        }
      } catch (err) {
        throw messages.createError('error.auditFailed', [items.length, status, err instanceof Error ? err.message : String(err)]);
      }
    }
    const note = chain
      ? messages.getMessage('info.audited', [sequences.length, `${chain.tenant}:${chain.jurisdiction}`, sequences.join(', ')])
      : messages.getMessage('info.notAudited');
    for (const i of items) cmd.log(messages.getMessage('info.item', [i.name, i.id, i.status ?? '', status]));
    if (erased.length > 0) cmd.log(messages.getMessage('info.erased', [erased.length]));
    if (chain) cmd.log(note);
    else cmd.warn(note);
    return {
      operation,
      status,
      resolvedBy: user.id,
      resolvedAt,
      items: items.map((i) => ({ ...i, status, resolvedBy: user.id, resolvedAt })),
      erasedRequests: erased,
      audit: {
        chained: chain !== undefined,
        tenant: chain?.tenant ?? null,
        chainId: chain ? `${chain.tenant}:${chain.jurisdiction}` : null,
        sequences,
        note,
      },
    };
  } finally {
    await chain?.close();
  }
}

/** The requests each quarantine entry names (by Id or ExternalId__c), whose question and answer a purge erases. */
async function requestsToErase(conn: Connection, names: ApiNames, items: QuarantineItem[]): Promise<Map<string, string[]>> {
  const refs = [...new Set(items.map((i) => i.requestId).filter((r): r is string => r !== null))];
  const out = new Map<string, string[]>();
  if (refs.length === 0) return out;
  const asIds = refs.filter((r) => ID.test(r));
  const where = [
    ...(asIds.length ? [`Id IN (${asIds.map(soqlString).join(', ')})`] : []),
    `${names.name('ExternalId__c')} IN (${refs.map(soqlString).join(', ')})`,
  ].join(' OR ');
  const requests = await queryAll(conn, `SELECT Id, ${names.name('ExternalId__c')} FROM ${names.name('AiRequest__c')} WHERE ${where}`);
  for (const item of items) {
    const ids = requests
      .filter(
        (r) =>
          item.requestId !== null &&
          (String(r.Id).slice(0, 15) === item.requestId.slice(0, 15) || r[names.name('ExternalId__c')] === item.requestId),
      )
      .map((r) => String(r.Id));
    out.set(item.id, ids);
  }
  return out;
}

export default class QuarantineRelease extends SfCommand<QuarantineResolveResult> {
  public static override readonly summary = messages.getMessage('summary');
  public static override readonly description = messages.getMessage('description');
  public static override readonly examples = messages.getMessages('examples');
  public static override readonly flags = resolveFlags;

  public async run(): Promise<QuarantineResolveResult> {
    const { flags } = await this.parse(QuarantineRelease);
    return resolveQuarantine(this, flags, 'release');
  }
}
