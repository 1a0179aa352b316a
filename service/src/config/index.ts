export {
  configSchema,
  residencyIssues,
  secretRefSchema,
  type EndpointConfig,
  type JurisdictionConfig,
  type KeysConfig,
  type ParsedConfig,
  type SecretRef,
  type StoreConfig,
  type TenantConfig,
} from './schema.js';
export { ConfigError, formatPath, loadConfig, parseConfigText, validateConfig, type ConfigIssue, type SovraConfig } from './load.js';
export { readSecret, envValue } from './secrets.js';
export { regionCountry, CLOUD_REGIONS } from './regions.js';
export { ISO_COUNTRIES, EU_MEMBER_STATES } from './countries.js';
export { parseCidr, isPrivateAddress, isPrivateOrLocal, type Cidr } from './cidr.js';
export {
  checkResidencyFile,
  checkResidencyText,
  orgFindings,
  type GateFinding,
  type GateOptions,
  type GateResult,
  type OrgResidency,
} from './residencyGate.js';
export { RESIDENCY_RULES, type ResidencyRule, type ResidencyIssue } from './schema.js';
