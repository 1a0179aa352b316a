/** The composition root: a whole sidecar for one jurisdiction from a validated config. */
export { startSidecar, type Sidecar, type SidecarOptions, type SidecarStatus, type TenantRuntime } from './sidecar.js';
export { StoreTokenVault } from './tokenVault.js';
export { serveConfigFile } from './serve.js';
export { openKeyAdministration, type KeyAdministration } from './keyAdministration.js';
