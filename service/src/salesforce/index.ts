/**
 * The salesforce stage: the only module that speaks to an org (STYLE.md). One
 * SalesforceConnection per tenant (JWT bearer via @salesforce/core, jsforce underneath),
 * session renewal, API-usage backpressure, typed REST helpers and the error mapping.
 */
export {
  COLLECTION_MAX,
  SalesforceConnection,
  assertRecordId,
  soqlString,
  type ApiUsage,
  type BackpressureState,
  type ConnectOptions,
  type HttpCall,
  type SObjectRecord,
  type SalesforceMetrics,
  type SaveError,
  type SaveOutcome,
} from './connection.js';
export { isRetryableRecordCode, isSessionExpired, salesforceErrorCode, toSalesforceError } from './errors.js';
export { jwtConnection, type JwtLogin, type Session } from './auth.js';
