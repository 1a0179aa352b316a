/**
 * Every Salesforce API name the sidecar uses, in one place. In the managed package each
 * custom object, field, event, channel, metadata type and custom permission carries the
 * `sovra__` namespace; in an unpackaged dev org it does not. `apiNames(ns)` applies the
 * prefix from config. A contract test holds this module against `force-app/`.
 */

export const REQUEST_STATUSES = ['Queued', 'Processing', 'Completed', 'Blocked', 'Quarantined', 'Failed'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export const FINAL_STATUSES: readonly RequestStatus[] = ['Completed', 'Blocked', 'Quarantined', 'Failed'];

export const QUARANTINE_STATUSES = ['Open', 'Released', 'Purged'] as const;
export type QuarantineStatus = (typeof QUARANTINE_STATUSES)[number];

/** Salesforce's data-sensitivity levels (FieldDefinition.SecurityClassification), least to most. */
export const SECURITY_CLASSIFICATIONS = ['Public', 'Internal', 'Confidential', 'Restricted', 'MissionCritical'] as const;
export type SecurityClassification = (typeof SECURITY_CLASSIFICATIONS)[number];

export const FIELD_HANDLINGS = ['allow', 'tokenize', 'drop'] as const;
export type FieldHandling = (typeof FIELD_HANDLINGS)[number];

/** Custom objects, events and metadata types with their custom fields (unprefixed API names). */
export const CUSTOM_SCHEMA = {
  AiRequest__c: [
    'RecordId__c',
    'ObjectApiName__c',
    'Action__c',
    'Question__c',
    'Status__c',
    'Jurisdiction__c',
    'RequestedBy__c',
    'Answer__c',
    'Endpoint__c',
    'Model__c',
    'ProcessingRegion__c',
    'Reason__c',
    'ReasonCode__c',
    'StartedAt__c',
    'CompletedAt__c',
    'LatencyMs__c',
    'ModelMs__c',
    'ExternalId__c',
  ],
  AiAuditEntry__c: [
    'EntryKey__c',
    'TenantId__c',
    'ChainId__c',
    'Sequence__c',
    'PrevHash__c',
    'EntryHash__c',
    'EventType__c',
    'Jurisdiction__c',
    'ProcessingRegion__c',
    'RequestId__c',
    'RecordId__c',
    'ActorId__c',
    'Action__c',
    'Decision__c',
    'Reason__c',
    'Endpoint__c',
    'Model__c',
    'FieldClasses__c',
    'SanitizedPrompt__c',
    'SanitizedAnswer__c',
    'PromptHmac__c',
    'AnswerHmac__c',
    'Timings__c',
    'OccurredAt__c',
    'Details__c',
  ],
  AiAuditCheckpoint__c: [
    'CheckpointKey__c',
    'TenantId__c',
    'ChainId__c',
    'Jurisdiction__c',
    'FromSequence__c',
    'ToSequence__c',
    'MerkleRoot__c',
    'LastEntryHash__c',
    'Signature__c',
    'KeyId__c',
    'Algorithm__c',
    'PublicKey__c',
    'SignedAt__c',
  ],
  AiQuarantine__c: [
    'ExternalId__c',
    'RecordId__c',
    'ObjectApiName__c',
    'RequestId__c',
    'Reason__c',
    'DetectedJurisdiction__c',
    'ExpectedJurisdiction__c',
    'Status__c',
    'ResolvedBy__c',
    'ResolvedAt__c',
  ],
  AiRequest__e: ['RequestId__c', 'ExternalId__c', 'RecordId__c', 'ObjectApiName__c', 'Action__c', 'Jurisdiction__c', 'RequestedBy__c'],
  /** Carries no answer: the LWC re-reads AiRequest__c with the user's own sharing. */
  AiResult__e: ['RequestId__c', 'RecordId__c', 'Status__c', 'Jurisdiction__c', 'ReasonCode__c'],
  Jurisdiction__mdt: ['Countries__c', 'Active__c'],
  ResidencyRule__mdt: ['ObjectApiName__c', 'JurisdictionField__c', 'CountryField__c', 'Priority__c', 'Active__c'],
  FieldPolicy__mdt: ['ObjectApiName__c', 'FieldApiName__c', 'Classification__c', 'Handling__c'],
  AiAction__mdt: [
    'ObjectApiName__c',
    'PromptTemplate__c',
    'Fields__c',
    'RelatedRecords__c',
    'MaxClassification__c',
    'RequiredPermission__c',
    'Purpose__c',
    'AutoRunOn__c',
    'Active__c',
  ],
} as const;

export type CustomObjectName = keyof typeof CUSTOM_SCHEMA;

/** The jurisdiction field stamped on the standard objects Sovra reads. */
export const DATA_JURISDICTION_FIELD = 'DataJurisdiction__c';
export const STAMPED_OBJECTS = ['Account', 'Contact', 'Lead', 'Opportunity', 'Case'] as const;

/** Custom permissions (unprefixed DeveloperNames). */
export const CUSTOM_PERMISSIONS = {
  inference: 'AiInference',
  trainingExport: 'AiTrainingExport',
  fineTuning: 'AiFineTuning',
  admin: 'AiAdmin',
  auditView: 'AiAuditView',
  quarantineRelease: 'AiQuarantineRelease',
} as const;
export const jurisdictionPermission = (jurisdiction: string): string => `AiJurisdiction${jurisdiction.toUpperCase()}`;

/** Permission sets (unprefixed names). */
export const PERMISSION_SETS = {
  user: 'SovraUser',
  admin: 'SovraAdmin',
  auditor: 'SovraAuditor',
  integration: 'SovraIntegration',
  trainingExport: 'SovraTrainingExport',
} as const;
export const jurisdictionPermissionSet = (jurisdiction: string): string => `SovraJurisdiction${jurisdiction.toUpperCase()}`;

/** The custom platform-event channel of one jurisdiction (`Sovra<J>__chn`). */
export const channelName = (jurisdiction: string): string => `Sovra${jurisdiction.toUpperCase()}__chn`;

export interface ApiNames {
  readonly prefix: string;
  /** `AiRequest__c` → `sovra__AiRequest__c` (or unchanged without a namespace). */
  name(unprefixed: string): string;
  /** Strips the namespace prefix from an API name read from the org, if present. */
  strip(apiName: string): string;
  channelPath(jurisdiction: string): string;
  permission(unprefixed: string): string;
}

/** API names for one org: `ns` is `sovra` in the managed package, `''` in a dev org. */
export function apiNames(ns: string): ApiNames {
  if (ns !== '' && !/^[A-Za-z][A-Za-z0-9]{0,14}$/.test(ns)) {
    throw new Error(`Namespace prefix '${ns}' is not a valid Salesforce namespace (letters and digits, at most 15).`);
  }
  const prefix = ns ? `${ns}__` : '';
  const isCustom = (n: string): boolean => /__(c|e|mdt|chn|x|b)$/.test(n);
  return {
    prefix,
    name: (n) => (prefix && isCustom(n) && !n.startsWith(prefix) ? `${prefix}${n}` : n),
    strip: (n) => (prefix && n.startsWith(prefix) ? n.slice(prefix.length) : n),
    channelPath: (j) => `/event/${prefix}${channelName(j)}`,
    permission: (n) => (prefix && !n.startsWith(prefix) ? `${prefix}${n}` : n),
  };
}
