/**
 * Evidence packs: the entries of a period, the checkpoints that cover them, the trusted public
 * keys, the verification result of the chain, and a GDPR Art. 30 record of processing for the
 * period (purposes = actions, categories of data = field classes, recipients = model
 * endpoints and their regions, transfers to third countries = none, with the count of
 * transfers Sovra refused). JSON as one document; CSV as one file per part.
 */
import type { PublicKeyInfo } from '../keys/types.js';
import type { TenantOps } from '../store/index.js';
import { type AuditEntryRecord } from './entry.js';
import { checkpointFromRow, parsedEntryFromRow, verifyLocalChain } from './auditLog.js';
import type { AuditCheckpoint } from './record.js';
import type { VerifyResult } from './verify.js';

export interface Art30Record {
  controller: { tenant: string };
  period: { from: string; to: string };
  jurisdiction: string;
  processingRegions: string[];
  /** Art. 30(1)(b): purposes = the AI actions run, with how often. */
  purposes: { action: string; requests: number }[];
  /** Art. 30(1)(c): categories of personal data = classes of the fields used, with the fields. */
  dataCategories: { classification: string; fields: string[] }[];
  /** Art. 30(1)(d): recipients = the model endpoints that received sanitized data, and their regions. */
  recipients: { endpoint: string; models: string[]; region: string | null; calls: number }[];
  /** Art. 30(1)(e): transfers to third countries. */
  transfers: { thirdCountryTransfers: 'none'; refusedEgress: number; quarantined: number; blockedByPolicy: number };
  /** Entries by event type in the period. */
  events: Record<string, number>;
}

export interface EvidencePack {
  format: 'sovra.evidence-pack.v1';
  generatedAt: string;
  tenant: string;
  chainId: string;
  jurisdiction: string;
  period: { from: string; to: string };
  /** Sequence numbers of the period's first and last entries (null when the period is empty). */
  sequenceRange: { from: number | null; to: number | null };
  entries: AuditEntryRecord[];
  checkpoints: AuditCheckpoint[];
  publicKeys: PublicKeyInfo[];
  verification: VerifyResult;
  art30: Art30Record;
}

export interface ExportOptions {
  chainId: string;
  jurisdiction: string;
  from: Date;
  to: Date;
  trustedKeys: readonly PublicKeyInfo[];
  /** endpoint id → region, from the deployment config. */
  endpointRegions?: Record<string, string>;
  onProgress?: (done: number, total: number) => void;
  now?: () => Date;
}

export async function buildEvidencePack(t: TenantOps, o: ExportOptions): Promise<EvidencePack> {
  const fromMs = o.from.getTime();
  const toMs = o.to.getTime();
  const total = await t.countChainEntries(o.chainId);
  const entries: AuditEntryRecord[] = [];
  let done = 0;
  for await (const row of t.iterateChainEntries(o.chainId, { pageSize: 500 })) {
    done++;
    if (done % 250 === 0 || done === total) o.onProgress?.(done, total);
    if (row.occurredAt < fromMs || row.occurredAt > toMs) continue;
    const p = parsedEntryFromRow(row);
    if (p.ok) entries.push(p.record);
  }
  const seqFrom = entries[0]?.seq ?? null;
  const seqTo = entries[entries.length - 1]?.seq ?? null;
  const checkpoints =
    seqFrom === null ? [] : (await t.listChainCheckpoints(o.chainId, { fromSeq: seqFrom, toSeq: seqTo! })).map(checkpointFromRow);
  // The whole chain is verified: a period is only as trustworthy as the links that lead to it.
  const verification = await verifyLocalChain(t, o.chainId, o.trustedKeys);
  return {
    format: 'sovra.evidence-pack.v1',
    generatedAt: (o.now?.() ?? new Date()).toISOString(),
    tenant: t.tenant,
    chainId: o.chainId,
    jurisdiction: o.jurisdiction,
    period: { from: o.from.toISOString(), to: o.to.toISOString() },
    sequenceRange: { from: seqFrom, to: seqTo },
    entries,
    checkpoints,
    publicKeys: [...o.trustedKeys],
    verification,
    art30: art30Record(t.tenant, o, entries),
  };
}

function inc(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

export function art30Record(
  tenant: string,
  o: Pick<ExportOptions, 'from' | 'to' | 'jurisdiction' | 'endpointRegions'>,
  entries: readonly AuditEntryRecord[],
): Art30Record {
  const purposes = new Map<string, Set<string>>();
  const categories = new Map<string, Set<string>>();
  const recipients = new Map<string, { models: Set<string>; calls: number }>();
  const events = new Map<string, number>();
  const regions = new Set<string>();
  for (const e of entries) {
    inc(events, e.eventType);
    regions.add(e.region);
    if (e.action) {
      const s = purposes.get(e.action) ?? new Set<string>();
      s.add(e.requestId ?? `#${e.seq}`);
      purposes.set(e.action, s);
    }
    for (const [field, cls] of Object.entries(e.fieldClasses)) {
      const s = categories.get(cls) ?? new Set<string>();
      s.add(field);
      categories.set(cls, s);
    }
    if (e.endpoint && e.eventType === 'model.called') {
      const r = recipients.get(e.endpoint) ?? { models: new Set<string>(), calls: 0 };
      r.calls++;
      if (e.model) r.models.add(e.model);
      recipients.set(e.endpoint, r);
    }
  }
  const sorted = <T>(m: Map<string, T>): [string, T][] => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
  return {
    controller: { tenant },
    period: { from: o.from.toISOString(), to: o.to.toISOString() },
    jurisdiction: o.jurisdiction,
    processingRegions: [...regions].sort(),
    purposes: sorted(purposes).map(([action, ids]) => ({ action, requests: ids.size })),
    dataCategories: sorted(categories).map(([classification, fields]) => ({ classification, fields: [...fields].sort() })),
    recipients: sorted(recipients).map(([endpoint, r]) => ({
      endpoint,
      models: [...r.models].sort(),
      region: o.endpointRegions?.[endpoint] ?? null,
      calls: r.calls,
    })),
    transfers: {
      thirdCountryTransfers: 'none',
      refusedEgress: events.get('egress.refused') ?? 0,
      quarantined: events.get('request.quarantined') ?? 0,
      blockedByPolicy: events.get('request.blocked') ?? 0,
    },
    events: Object.fromEntries(sorted(events)),
  };
}

/** RFC 4180 field quoting. */
function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

const ENTRY_COLUMNS = [
  'seq',
  'occurredAt',
  'eventType',
  'decision',
  'reason',
  'tenant',
  'jurisdiction',
  'region',
  'requestId',
  'recordId',
  'actorId',
  'action',
  'endpoint',
  'model',
  'fieldClasses',
  'sanitizedPrompt',
  'sanitizedAnswer',
  'promptHmac',
  'answerHmac',
  'timings',
  'details',
  'chainId',
  'prevHash',
  'entryHash',
] as const;

/** The pack as CSV files (file name → content). */
export function evidencePackCsv(pack: EvidencePack): Record<string, string> {
  const a = pack.art30;
  return {
    'entries.csv': toCsv(
      ENTRY_COLUMNS,
      pack.entries.map((e) => ENTRY_COLUMNS.map((c) => e[c])),
    ),
    'checkpoints.csv': toCsv(
      ['fromSeq', 'toSeq', 'merkleRoot', 'lastEntryHash', 'signedAt', 'keyId', 'algorithm', 'signature', 'jurisdiction', 'chainId'],
      pack.checkpoints.map((c) => [
        c.fromSeq,
        c.toSeq,
        c.merkleRoot,
        c.lastEntryHash,
        c.signedAt,
        c.keyId,
        c.algorithm,
        c.signature,
        c.jurisdiction,
        c.chainId,
      ]),
    ),
    'public-keys.csv': toCsv(
      ['keyId', 'jurisdiction', 'algorithm', 'publicKeyPem'],
      pack.publicKeys.map((k) => [k.keyId, k.jurisdiction, k.algorithm, k.publicKeyPem]),
    ),
    'verification.csv': toCsv(
      ['ok', 'kind', 'sequence', 'toSequence', 'claimedSequence', 'detail'],
      pack.verification.issues.length === 0
        ? [[true, '', '', '', '', `${pack.verification.entries} entries, verified through ${pack.verification.verifiedThrough}`]]
        : pack.verification.issues.map((i) => [false, i.kind, i.sequence, i.toSequence ?? '', i.claimedSequence ?? '', i.detail]),
    ),
    'art30.csv': toCsv(
      ['section', 'item', 'value', 'count'],
      [
        ['controller', 'tenant', a.controller.tenant, ''],
        ['period', 'from', a.period.from, ''],
        ['period', 'to', a.period.to, ''],
        ['jurisdiction', 'jurisdiction', a.jurisdiction, ''],
        ...a.processingRegions.map((r) => ['processing', 'region', r, '']),
        ...a.purposes.map((p) => ['purposes', p.action, '', p.requests]),
        ...a.dataCategories.map((c) => ['data categories', c.classification, c.fields.join(' '), c.fields.length]),
        ...a.recipients.map((r) => ['recipients', r.endpoint, `${r.models.join(' ')}${r.region ? ` @ ${r.region}` : ''}`, r.calls]),
        ['transfers', 'third-country transfers', a.transfers.thirdCountryTransfers, ''],
        ['transfers', 'refused egress', '', a.transfers.refusedEgress],
        ['transfers', 'quarantined', '', a.transfers.quarantined],
        ['transfers', 'blocked by policy', '', a.transfers.blockedByPolicy],
      ],
    ),
  };
}
