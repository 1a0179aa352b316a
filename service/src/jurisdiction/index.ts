export {
  createJurisdictionResolver,
  normaliseCountry,
  type Evidence,
  type JurisdictionDecision,
  type JurisdictionDef,
  type JurisdictionResolver,
  type JurisdictionResolverOptions,
  type QuarantineCode,
  type ResidencyRuleRow,
  type ResolveInput,
} from './resolve.js';
