/**
 * The request pipeline: claimed work in, a jurisdiction-pinned answer and its audit trail out.
 *
 *   verify → fetch → classify → resolve jurisdiction → policy → sanitize → route → detokenize
 *   → one store transaction: final state + outbox rows (AiRequest__c, AiQuarantine__c,
 *     AiResult__e) + audit entries
 *
 * Guarantees: nothing is sent to any model before the jurisdiction is resolved to this
 * deployment's and policy allowed it; only sanitized text leaves the process; every request
 * ends in a definite state (Completed, Blocked, Quarantined, Failed — rejected events end
 * Failed with a REJECTED_* code) with a reason, and every end state is audited in the same
 * transaction that records it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditEventInput, AuditLog } from '../audit/index.js';
import type { Classifier, FieldClass } from '../classify/index.js';
import type { TenantConfig } from '../config/index.js';
import type { IntakeWork } from '../intake/index.js';
import type { JurisdictionDecision, JurisdictionResolver } from '../jurisdiction/index.js';
import type { KeyService } from '../keys/index.js';
import type { ChatMessage, EgressRefusalEvent } from '../llm/index.js';
import type { PolicyDecision, PolicyEngine } from '../policy/index.js';
import type { ModelRouter } from '../route/index.js';
import type { SalesforceConnection, SObjectRecord } from '../salesforce/index.js';
import {
  detokenize,
  entityTypeForField,
  type EntityType,
  type KnownValue,
  type SanitizeSession,
  type Sanitizer,
  type TokenVault,
} from '../sanitize/index.js';
import { isSovraError, toSovraError } from '../shared/errors.js';
import { log } from '../shared/log.js';
import { CUSTOM_PERMISSIONS, type RequestStatus } from '../shared/schema.js';
import type { OutboxInput, TenantOps, TenantStore } from '../store/index.js';
import { renderTemplate, type ActionDef, type RelatedSpec } from './actions.js';
import { loadUserRights, type OrgMetadata, type UserRights } from './orgMetadata.js';

/** What one request ended as (for the demo, metrics and tests; the answer never reaches a log). */
export interface RequestOutcome {
  requestId: string;
  externalId: string | null;
  recordId: string | null;
  object: string | null;
  action: string | null;
  status: Exclude<RequestStatus, 'Queued' | 'Processing'>;
  reasonCode: string | null;
  reason: string | null;
  jurisdiction: string | null;
  endpoint: string | null;
  model: string | null;
  /** The prompt as the model saw it (tokens, no raw values). */
  sanitizedPrompt: string | null;
  /** The detokenized answer written back to the org. */
  answer: string | null;
  timings: Record<string, number>;
}

export interface PipelineOptions {
  tenant: TenantConfig;
  deployment: { jurisdiction: string; region: string };
  sf: SalesforceConnection;
  store: TenantStore;
  keys: KeyService;
  audit: AuditLog;
  router: ModelRouter;
  sanitizer: Sanitizer;
  classifier: Classifier;
  policy: PolicyEngine;
  resolver: () => Promise<{ metadata: OrgMetadata; jurisdiction: JurisdictionResolver }>;
  vault?: TokenVault;
  /** `FieldDefinition.DataType` of a field when known (tells free text from single values). */
  fieldType?: (object: string, field: string) => string | null | undefined;
  tokenTtlSeconds?: number;
  maxTokens?: number;
  now?: () => number;
  onOutcome?: (outcome: RequestOutcome) => void;
}

export interface Pipeline {
  process(batch: IntakeWork[]): Promise<void>;
  /** The router's egress refusals are audited against the request in flight. */
  onEgressRefusal(event: EgressRefusalEvent): void;
}

const REQUEST_FIELDS = [
  'CreatedById',
  'ExternalId__c',
  'RecordId__c',
  'ObjectApiName__c',
  'Action__c',
  'Question__c',
  'Status__c',
  'Jurisdiction__c',
  'RequestedBy__c',
];
const ANSWER_MAX = 131_072;
/** Claims of one request before it ends Failed instead of being retried again. */
const MAX_ATTEMPTS = 5;
const REASON_MAX = 255;
const SYSTEM_PROMPT =
  'You are an assistant inside Salesforce. Values written like ⟦TYPE_N⟧ are placeholders for data you must not see: keep them exactly as written where you need them. Answer briefly.';

interface Ctx {
  work: IntakeWork;
  row: SObjectRecord | undefined;
  audits: AuditEventInput[];
  timings: Record<string, number>;
  started: number;
}

type Final = {
  status: RequestOutcome['status'];
  reasonCode: string | null;
  reason: string | null;
  jurisdiction?: string | null;
  endpoint?: string | null;
  model?: string | null;
  answer?: string | null;
  sanitizedPrompt?: string | null;
  quarantine?: Extract<JurisdictionDecision, { status: 'quarantine' }>;
};

const truncate = (s: string | null | undefined, n: number): string | null =>
  s == null ? null : s.length > n ? `${s.slice(0, n - 1)}…` : s;
const text = (v: unknown): string | null =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;

function getPath(rec: SObjectRecord | undefined, path: string): unknown {
  let cur: unknown = rec;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function entityType(object: string, field: string, dataType?: string | null): EntityType {
  if (field === 'Name')
    return object === 'Account' ? 'ORG' : object === 'Contact' || object === 'Lead' || object === 'User' ? 'PERSON' : 'VALUE';
  return entityTypeForField(field, dataType);
}

/** The object a field path lands on and the field's own name (`Account.Name` on Opportunity → Account, Name). */
function pathTarget(object: string, path: string): { object: string; field: string } {
  const parts = path.split('.');
  if (parts.length === 1) return { object, field: path };
  // Standard parent relationships name their object (Account, Contact, Owner → User); custom ones end in __r.
  const rel = parts[parts.length - 2]!;
  const target =
    rel === 'Owner' || rel === 'CreatedBy' || rel === 'LastModifiedBy' ? 'User' : rel.endsWith('__r') ? rel.replace(/__r$/, '__c') : rel;
  return { object: target, field: parts[parts.length - 1]! };
}

export function createPipeline(o: PipelineOptions): Pipeline {
  const now = o.now ?? Date.now;
  const jurisdiction = o.deployment.jurisdiction;
  const inFlight = new AsyncLocalStorage<Ctx>();
  const names = o.sf.names;

  function audit(ctx: Ctx, e: Omit<AuditEventInput, 'requestId' | 'recordId' | 'actorId' | 'action'>): void {
    ctx.audits.push({
      requestId: ctx.work.requestId,
      recordId: text(ctx.row?.RecordId__c),
      actorId: text(ctx.row?.RequestedBy__c),
      action: text(ctx.row?.Action__c),
      ...e,
    });
  }

  async function encryptPayload(record: Record<string, unknown>): Promise<Uint8Array> {
    return o.keys.encrypt({ tenant: o.tenant.id, jurisdiction, purpose: 'outbox' }, JSON.stringify(record));
  }

  /** Commits the end state, its write-back rows and its audit entries together. */
  async function finish(ctx: Ctx, f: Final): Promise<void> {
    const completedAt = now();
    ctx.timings.totalMs = completedAt - ctx.started;
    const reason = truncate(f.reason, REASON_MAX);
    const row = ctx.row;
    const outbox: OutboxInput[] = [];
    if (row && typeof row.Id === 'string') {
      const update: Record<string, unknown> = {
        Id: row.Id,
        Status__c: f.status,
        Reason__c: reason,
        ReasonCode__c: f.reasonCode,
        ProcessingRegion__c: o.deployment.region,
        StartedAt__c: new Date(ctx.started).toISOString(),
        CompletedAt__c: new Date(completedAt).toISOString(),
        LatencyMs__c: ctx.timings.totalMs,
      };
      if (f.endpoint) update.Endpoint__c = f.endpoint;
      if (f.model) update.Model__c = f.model;
      if (ctx.timings.modelMs !== undefined) update.ModelMs__c = ctx.timings.modelMs;
      if (f.answer != null) update.Answer__c = truncate(f.answer, ANSWER_MAX);
      outbox.push({
        jurisdiction,
        sobject: 'AiRequest__c',
        operation: 'update',
        externalIdField: 'Id',
        externalId: row.Id,
        payload: await encryptPayload(update),
        encrypted: true,
      });
      const result = {
        RequestId__c: row.Id,
        RecordId__c: text(row.RecordId__c),
        Status__c: f.status,
        Jurisdiction__c: f.jurisdiction ?? text(row.Jurisdiction__c),
        ReasonCode__c: f.reasonCode,
      };
      outbox.push({
        jurisdiction,
        sobject: 'AiResult__e',
        operation: 'publish',
        externalIdField: null,
        externalId: null,
        payload: Buffer.from(JSON.stringify(result)),
        encrypted: false,
      });
    }
    if (f.quarantine && row) {
      const key = text(row.ExternalId__c) ?? ctx.work.requestId;
      const q = {
        ExternalId__c: key,
        RecordId__c: text(row.RecordId__c),
        ObjectApiName__c: text(row.ObjectApiName__c),
        RequestId__c: ctx.work.requestId,
        Reason__c: truncate(f.quarantine.reason, REASON_MAX),
        DetectedJurisdiction__c: f.quarantine.detected,
        ExpectedJurisdiction__c: f.quarantine.expected,
        Status__c: 'Open',
      };
      outbox.push({
        jurisdiction,
        sobject: 'AiQuarantine__c',
        operation: 'upsert',
        externalIdField: 'ExternalId__c',
        externalId: key,
        payload: await encryptPayload(q),
        encrypted: true,
      });
    }
    await o.store.transaction(async (tx: TenantOps) => {
      for (const ob of outbox) await tx.enqueueOutbox(ob);
      for (const a of ctx.audits) await o.audit.append(tx, a);
      await tx.setStatus(ctx.work.lease, { status: f.status, reason, reasonCode: f.reasonCode });
    });
    o.onOutcome?.({
      requestId: ctx.work.requestId,
      externalId: row ? text(row.ExternalId__c) : ctx.work.externalId,
      recordId: row ? text(row.RecordId__c) : null,
      object: row ? text(row.ObjectApiName__c) : null,
      action: row ? text(row.Action__c) : null,
      status: f.status,
      reasonCode: f.reasonCode,
      reason,
      jurisdiction: f.jurisdiction ?? null,
      endpoint: f.endpoint ?? null,
      model: f.model ?? null,
      sanitizedPrompt: f.sanitizedPrompt ?? null,
      answer: f.answer ?? null,
      timings: { ...ctx.timings },
    });
    log().info('request finished', {
      tenant: o.tenant.id,
      requestId: ctx.work.requestId,
      status: f.status,
      reasonCode: f.reasonCode,
      totalMs: ctx.timings.totalMs,
    });
  }

  async function reject(ctx: Ctx, code: string, why: string): Promise<void> {
    audit(ctx, { eventType: 'request.rejected', decision: 'reject', reason: why, details: { code } });
    await finish(ctx, { status: 'Failed', reasonCode: code, reason: why });
  }

  /** Fetches the records of many requests on one object with one query (related rows as subqueries). */
  async function fetchRecords(
    object: string,
    ids: string[],
    fields: string[],
    related: RelatedSpec[],
  ): Promise<Map<string, SObjectRecord>> {
    const pathName = (p: string): string =>
      p
        .split('.')
        .map((seg) => names.name(seg))
        .join('.');
    const cols = [...new Set(['Id', ...fields])].map(pathName);
    for (const r of related) {
      cols.push(
        `(SELECT ${[...new Set(['Id', ...r.fields])].map(pathName).join(', ')} FROM ${names.name(r.relationship)} ORDER BY CreatedDate DESC LIMIT ${r.limit})`,
      );
    }
    const out = new Map<string, SObjectRecord>();
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      const soql = `SELECT ${cols.join(', ')} FROM ${names.name(object)} WHERE Id IN (${chunk.map((id) => `'${id}'`).join(', ')})`;
      for (const rec of await o.sf.query(soql, { operation: `fetch ${object}` })) out.set(String(rec.Id), rec);
    }
    return out;
  }

  async function runOne(
    ctx: Ctx,
    action: ActionDef,
    record: SObjectRecord,
    rights: UserRights | undefined,
    meta: { jurisdiction: JurisdictionResolver },
  ): Promise<void> {
    const row = ctx.row!;
    const object = action.object;

    // Resolve the jurisdiction before anything else happens to the record's data.
    const decision = meta.jurisdiction.resolve({
      object,
      values: Object.fromEntries(meta.jurisdiction.decidingFields(object).map((f) => [f, getPath(record, f)])),
      requestedJurisdiction: text(row.Jurisdiction__c),
    });
    if (decision.status === 'quarantine') {
      audit(ctx, {
        eventType: 'request.quarantined',
        decision: 'quarantine',
        reason: decision.reason,
        details: { code: decision.code, detected: decision.detected, expected: decision.expected },
      });
      await finish(ctx, {
        status: 'Quarantined',
        reasonCode: decision.code,
        reason: `${decision.reason} Nothing was sent to any model; an admin can review it in the Sovra quarantine.`,
        quarantine: decision,
        // Only a decided jurisdiction is reported as one (an unknown country is not).
        jurisdiction: decision.code === 'REQUEST_MISMATCH' || decision.code === 'NOT_THIS_DEPLOYMENT' ? decision.detected : null,
      });
      return;
    }

    // Classify every field the action would send.
    const t0 = now();
    const classes = new Map<string, FieldClass>();
    const byObject = new Map<string, { field: string; path: string }[]>();
    const addPath = (obj: string, path: string, key: string): void => {
      const target = pathTarget(obj, path);
      byObject.set(target.object, [...(byObject.get(target.object) ?? []), { field: target.field, path: key }]);
    };
    for (const f of action.fields) addPath(object, f, f);
    for (const r of action.related) for (const f of r.fields) addPath(r.relationship, f, `${r.relationship}.${f}`);
    for (const [obj, list] of byObject) {
      // Related rows' object is named by the relationship; classify against the child object when it is a known one.
      const childObject = action.related.find((r) => r.relationship === obj) ? relationshipObject(obj) : obj;
      const cls = await o.classifier.classify(
        o.tenant.id,
        childObject,
        list.map((l) => l.field),
      );
      for (const l of list) {
        const c = cls[l.field];
        if (c) classes.set(l.path, c);
      }
    }
    ctx.timings.classifyMs = now() - t0;
    const sent = [...classes.values()].filter((c) => c.handling !== 'drop');
    const maxClass = sent.reduce<FieldClass['classification']>(
      (m, c) => (rank(c.classification) > rank(m) ? c.classification : m),
      'Public',
    );

    // Policy: the user's rights re-read from the org, never from the event.
    const permissions = [...(rights?.permissions ?? [])];
    const userJurisdictions = permissions.filter((p) => p.startsWith('AiJurisdiction')).map((p) => p.slice('AiJurisdiction'.length));
    if (action.requiredPermission !== CUSTOM_PERMISSIONS.inference && !permissions.includes(action.requiredPermission)) {
      const reason = `This action needs the ${action.requiredPermission} permission, which you do not have.`;
      audit(ctx, { eventType: 'request.blocked', decision: 'deny', reason, details: { policy: 'action-required-permission' } });
      await finish(ctx, { status: 'Blocked', reasonCode: 'POLICY_DENIED', reason, jurisdiction: decision.jurisdiction });
      return;
    }
    const verdict: PolicyDecision = o.policy.decide({
      user: { id: text(row.RequestedBy__c) ?? 'unknown', permissions, jurisdictions: userJurisdictions },
      action: action.purpose,
      purpose: action.purpose,
      record: { id: text(row.RecordId__c) ?? 'unknown', object, jurisdiction: decision.jurisdiction },
      endpointJurisdiction: o.router.jurisdiction,
      deploymentJurisdiction: jurisdiction,
      maxFieldClass: maxClass,
      classCeiling: action.maxClassification,
    });
    const fieldClasses = Object.fromEntries([...classes].map(([p, c]) => [p, `${c.classification}/${c.handling}`]));
    if (!verdict.allowed) {
      audit(ctx, {
        eventType: 'request.blocked',
        decision: 'deny',
        reason: verdict.reason,
        fieldClasses,
        details: { policies: verdict.policies.join(','), code: verdict.code },
      });
      await finish(ctx, { status: 'Blocked', reasonCode: verdict.code, reason: verdict.reason, jurisdiction: decision.jurisdiction });
      return;
    }

    // Sanitize: known values first (PII fields of the record and its related rows), then the template.
    const session: SanitizeSession = o.sanitizer.session();
    const known: KnownValue[] = [];
    for (const [path, c] of classes) {
      // Values of tokenized and dropped fields are searched for everywhere; an allowed field's
      // value is allowed (a job title the policy lets through stays readable).
      if (c.handling === 'allow') continue;
      const [head, ...rest] = path.split('.');
      const rel = action.related.find((r) => r.relationship === head);
      const values = rel ? relatedRows(record, rel.relationship).map((r) => getPath(r, rest.join('.'))) : [getPath(record, path)];
      const target = pathTarget(object, path);
      for (const v of values) {
        const s = text(v);
        // A free text is a container of values, not a value: its regulated parts are found by the
        // detectors and by the other known values when it is rendered.
        if (
          s &&
          s.trim() !== '' &&
          (c.handling === 'drop' || !isFreeText(s, o.fieldType?.(relationshipObject(target.object), target.field)))
        )
          known.push({ value: s, type: entityType(target.object, target.field), handling: c.handling === 'drop' ? 'drop' : 'tokenize' });
      }
    }
    session.addKnownValues(known);
    const render = (path: string, value: unknown): string => {
      const s = text(value);
      if (s === null || s === '') return '—';
      const c = classes.get(path);
      const handling = c?.handling ?? 'drop';
      const target = pathTarget(object, path);
      // Free text of a tokenized field is scanned (detectors, known values) rather than replaced whole,
      // so the model can still read what the note says about the case without any regulated value in it.
      if (handling === 'tokenize' && isFreeText(s, o.fieldType?.(relationshipObject(target.object), target.field)))
        return session.sanitize(s).text;
      return session.sanitizeField(s, handling, entityType(target.object, target.field)) ?? '[withheld]';
    };
    const prompt = renderTemplate(action.template, (p) => {
      if (p === 'Question') {
        const q = text(row.Question__c);
        return q ? session.sanitize(q).text : '—';
      }
      const rel = action.related.find((r) => r.relationship === p);
      if (rel) {
        const rows = relatedRows(record, rel.relationship);
        if (rows.length === 0) return '(none)';
        return rows.map((r) => rel.fields.map((f) => `${f}: ${render(`${rel.relationship}.${f}`, getPath(r, f))}`).join('; ')).join('\n');
      }
      return render(p, getPath(record, p));
    });
    const tokenMap = session.tokenMap();
    if (o.vault)
      await o.vault.put({ tenant: o.tenant.id, jurisdiction, requestId: ctx.work.requestId }, tokenMap, o.tokenTtlSeconds ?? 86_400);

    // The model call is recorded before it is made, so a crash cannot hide it.
    const called = {
      eventType: 'model.called' as const,
      decision: 'allow' as const,
      sanitizedPrompt: prompt,
      fieldClasses,
      details: { endpoints: o.router.endpointIds.join(',') },
    };
    await o.store.transaction(async (tx) => {
      for (const a of ctx.audits.splice(0)) await o.audit.append(tx, a);
      await o.audit.append(tx, {
        requestId: ctx.work.requestId,
        recordId: text(row.RecordId__c),
        actorId: text(row.RequestedBy__c),
        action: action.name,
        ...called,
      });
    });

    const messages: ChatMessage[] = [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: prompt },
    ];
    const m0 = now();
    try {
      const result = await o.router.chat({ messages, maxTokens: o.maxTokens ?? 256, temperature: 0 });
      ctx.timings.modelMs = now() - m0;
      const answer = detokenize(result.content, tokenMap);
      audit(ctx, {
        eventType: 'model.answered',
        decision: 'allow',
        endpoint: result.endpointId,
        model: result.model,
        fieldClasses,
        sanitizedPrompt: prompt,
        sanitizedAnswer: result.content,
        rawAnswer: answer,
        timings: { modelMs: ctx.timings.modelMs },
        details: { attempts: result.routing.attempts, finish: result.finishReason },
      });
      await finish(ctx, {
        status: 'Completed',
        reasonCode: null,
        reason: null,
        jurisdiction: decision.jurisdiction,
        endpoint: result.endpointId,
        model: result.model,
        answer,
        sanitizedPrompt: prompt,
      });
    } catch (err) {
      ctx.timings.modelMs = now() - m0;
      const e = toSovraError(err);
      const reason = isSovraError(err) ? e.reason : 'The model call failed inside Sovra.';
      audit(ctx, {
        eventType: 'model.failed',
        decision: 'error',
        reason,
        sanitizedPrompt: prompt,
        details: { code: e.code, kind: e.kind },
      });
      await finish(ctx, {
        status: 'Failed',
        reasonCode: e.code,
        reason: `${reason} Nothing was sent outside ${decision.jurisdiction}.`,
        jurisdiction: decision.jurisdiction,
        sanitizedPrompt: prompt,
      });
    }
  }

  function relatedRows(record: SObjectRecord, relationship: string): SObjectRecord[] {
    const sub = record[relationship] as { records?: SObjectRecord[] } | null | undefined;
    return Array.isArray(sub?.records) ? sub.records : [];
  }

  return {
    onEgressRefusal(event) {
      const ctx = inFlight.getStore();
      const details: Record<string, string | number | boolean | null> = {};
      for (const [k, v] of Object.entries(event))
        if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) details[k] = v as string | number | boolean | null;
      if (ctx)
        audit(ctx, {
          eventType: 'egress.refused',
          decision: 'deny',
          reason: 'An outbound model call was refused by the egress guard.',
          details,
        });
      else
        void o.audit
          .record({
            eventType: 'egress.refused',
            decision: 'deny',
            reason: 'An outbound model call was refused by the egress guard.',
            details,
          })
          .catch(() => undefined);
    },

    async process(input) {
      // A request that keeps failing on a retryable error (the org or the store unavailable
      // mid-batch) is claimed again by intake; after MAX_ATTEMPTS claims it ends Failed instead
      // of looping for ever. Its final state is written back by its record id.
      const batch: IntakeWork[] = [];
      for (const work of input) {
        if (work.request.attempts <= MAX_ATTEMPTS) {
          batch.push(work);
          continue;
        }
        const ctx: Ctx = {
          work,
          row: /^[A-Za-z0-9]{15,18}$/.test(work.requestId) ? { Id: work.requestId } : undefined,
          audits: [],
          timings: {},
          started: now(),
        };
        const reason = `Sovra tried ${MAX_ATTEMPTS} times and could not finish the request; the last attempt failed on an error it could not recover from. Ask your admin to check the sidecar's health, then run the action again.`;
        audit(ctx, { eventType: 'model.failed', decision: 'error', reason, details: { attempts: work.request.attempts, code: 'GAVE_UP' } });
        await finish(ctx, { status: 'Failed', reasonCode: 'GAVE_UP', reason });
      }
      if (batch.length === 0) return;
      const { metadata, jurisdiction: resolver } = await o.resolver();
      const rows = await o.sf.retrieveRequests(
        batch.map((w) => w.requestId),
        REQUEST_FIELDS,
      );
      const byId = new Map(rows.map((r) => [String(r.Id), r]));
      const ctxs: Ctx[] = batch.map((work) => ({ work, row: byId.get(work.requestId), audits: [], timings: {}, started: now() }));

      // Verify: the event is only a hint; the org's row and the user's rights decide.
      const valid: { ctx: Ctx; action: ActionDef }[] = [];
      for (const ctx of ctxs) {
        const row = ctx.row;
        if (!row) {
          await reject(
            ctx,
            'REJECTED_NO_REQUEST',
            'No AiRequest__c matches this event in the org: it was forged, deleted or belongs to another org.',
          );
          continue;
        }
        audit(ctx, { eventType: 'request.received', decision: 'info', details: { source: ctx.work.source, status: text(row.Status__c) } });
        if (row.Status__c !== 'Queued' && row.Status__c !== 'Processing') {
          await reject(
            ctx,
            'REJECTED_NOT_QUEUED',
            `The request is ${text(row.Status__c) ?? 'in an unknown state'} in the org, not Queued: a replayed or stale event.`,
          );
          continue;
        }
        if (ctx.work.externalId && text(row.ExternalId__c) && ctx.work.externalId !== row.ExternalId__c) {
          await reject(ctx, 'REJECTED_MISMATCH', "The event's request key does not match the org's request.");
          continue;
        }
        // The requester is who created the row: RequestedBy__c alone is writable by its creator.
        if (!sameId(text(row.CreatedById), text(row.RequestedBy__c))) {
          await reject(ctx, 'REJECTED_IMPERSONATION', 'The request names another user as its requester than the user who created it.');
          continue;
        }
        const action = metadata.actions.get(text(row.Action__c) ?? '');
        if (!action || !action.active) {
          const why = metadata.invalidActions.get(text(row.Action__c) ?? '');
          await reject(
            ctx,
            'REJECTED_UNKNOWN_ACTION',
            why ?? `The action ${text(row.Action__c) ?? '(none)'} is not an active AI action of this org.`,
          );
          continue;
        }
        if (action.object !== row.ObjectApiName__c) {
          await reject(
            ctx,
            'REJECTED_MISMATCH',
            `The action ${action.name} runs on ${action.object}, not on ${text(row.ObjectApiName__c) ?? '(none)'}.`,
          );
          continue;
        }
        if (typeof row.RecordId__c !== 'string' || !/^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/.test(row.RecordId__c)) {
          await reject(ctx, 'REJECTED_MALFORMED', 'The request names no valid record id.');
          continue;
        }
        valid.push({ ctx, action });
      }
      if (valid.length === 0) return;

      const rights = await loadUserRights(
        o.sf,
        valid.map((v) => text(v.ctx.row!.RequestedBy__c) ?? ''),
      );
      const entitled: { ctx: Ctx; action: ActionDef }[] = [];
      for (const v of valid) {
        const r = rights.get(text(v.ctx.row!.RequestedBy__c) ?? '');
        if (!r || !r.active) {
          await reject(v.ctx, 'REJECTED_UNAUTHORISED', 'The requesting user is unknown or inactive in the org.');
          continue;
        }
        if (!r.permissions.has(CUSTOM_PERMISSIONS.inference) && v.action.purpose === 'infer') {
          const reason = 'You do not have the AiInference permission. Ask your Salesforce admin for the SovraUser permission set.';
          audit(v.ctx, { eventType: 'request.blocked', decision: 'deny', reason, details: { policy: 'infer-needs-permission' } });
          await finish(v.ctx, { status: 'Blocked', reasonCode: 'POLICY_DENIED', reason });
          continue;
        }
        entitled.push(v);
      }

      // Fetch: one query per object for all requests of the batch.
      const f0 = now();
      const groups = new Map<string, { ctx: Ctx; action: ActionDef }[]>();
      for (const v of entitled) groups.set(v.action.object, [...(groups.get(v.action.object) ?? []), v]);
      for (const [object, items] of groups) {
        const fields = new Set<string>(resolver.decidingFields(object));
        const related = new Map<string, RelatedSpec>();
        for (const { action } of items) {
          action.fields.forEach((f) => fields.add(f));
          for (const r of action.related) {
            const prev = related.get(r.relationship);
            related.set(
              r.relationship,
              prev
                ? {
                    relationship: r.relationship,
                    fields: [...new Set([...prev.fields, ...r.fields])],
                    limit: Math.max(prev.limit, r.limit),
                  }
                : r,
            );
          }
        }
        let records: Map<string, SObjectRecord>;
        try {
          records = await fetchRecords(
            object,
            items.map((i) => String(i.ctx.row!.RecordId__c)),
            [...fields],
            [...related.values()],
          );
        } catch (err) {
          const e = toSovraError(err);
          if (e.retryable) throw err;
          for (const { ctx } of items) {
            audit(ctx, {
              eventType: 'request.rejected',
              decision: 'error',
              reason: 'The record could not be read.',
              details: { code: e.code },
            });
            await finish(ctx, {
              status: 'Failed',
              reasonCode: 'FETCH_FAILED',
              reason: `The record could not be read from Salesforce (${e.code}). ${e.fix ?? ''}`.trim(),
            });
          }
          continue;
        }
        const fetchMs = now() - f0;
        for (const { ctx, action } of items) {
          ctx.timings.fetchMs = fetchMs;
          const record = records.get(String(ctx.row!.RecordId__c));
          if (!record) {
            await reject(
              ctx,
              'REJECTED_NO_RECORD',
              `The ${object} record of this request does not exist or the integration user cannot see it.`,
            );
            continue;
          }
          try {
            await inFlight.run(ctx, () =>
              runOne(ctx, action, record, rights.get(text(ctx.row!.RequestedBy__c) ?? ''), { jurisdiction: resolver }),
            );
          } catch (err) {
            const e = toSovraError(err);
            if (e.retryable && e.kind !== 'egress_refused') throw err;
            log().error('request failed inside the pipeline', { tenant: o.tenant.id, requestId: ctx.work.requestId, error: err });
            audit(ctx, {
              eventType: 'model.failed',
              decision: 'error',
              reason: 'Sovra could not process the request.',
              details: { code: e.code },
            });
            await finish(ctx, {
              status: 'Failed',
              reasonCode: e.code,
              reason: `Sovra could not process the request (${e.code}). ${e.fix ?? ''}`.trim(),
            });
          }
        }
      }
    },
  };
}

/** Salesforce ids compare on their 15-character case-sensitive form. */
function sameId(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && a.length >= 15 && b.length >= 15 && a.slice(0, 15) === b.slice(0, 15);
}

/**
 * Free text (notes, descriptions, comments) holds values rather than being one: by the field's
 * data type from FieldDefinition (Text Area, Long Text Area, Rich Text Area) when known, else by
 * its shape (long or multi-line).
 */
function isFreeText(s: string, dataType?: string | null): boolean {
  if (dataType) return /text\s?area|rich\s?text|html/i.test(dataType);
  return s.length > 80 || s.includes('\n');
}

const RANKS = ['Public', 'Internal', 'Confidential', 'Restricted', 'MissionCritical', 'Unclassified'];
function rank(c: string): number {
  const i = RANKS.indexOf(c);
  return i < 0 ? RANKS.length : i;
}

/** The child object behind the package actions' standard relationships. */
function relationshipObject(relationship: string): string {
  const known: Record<string, string> = {
    Contacts: 'Contact',
    Opportunities: 'Opportunity',
    Cases: 'Case',
    OpportunityLineItems: 'OpportunityLineItem',
    CaseComments: 'CaseComment',
    OpenActivities: 'OpenActivity',
    ActivityHistories: 'ActivityHistory',
    Tasks: 'Task',
    Events: 'Event',
  };
  return known[relationship] ?? (relationship.endsWith('__r') ? relationship.replace(/__r$/, '__c') : relationship);
}
