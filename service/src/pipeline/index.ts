/**
 * The pipeline: wires the stages for one tenant in the flow of DESIGN.md — verify, fetch,
 * classify, jurisdiction, policy, sanitize, route, detokenize, and one transaction for the
 * end state, its write-back and its audit entries.
 */
export { createPipeline, type Pipeline, type PipelineOptions, type RequestOutcome } from './pipeline.js';
export { parseAction, parseRelated, renderTemplate, type ActionDef, type ActionRow, type RelatedSpec } from './actions.js';
export { loadFieldDefinitions, loadOrgMetadata, loadUserRights, type OrgMetadata, type UserRights } from './orgMetadata.js';
export { createOrgContext, type OrgContext, type OrgContextOptions } from './orgContext.js';
