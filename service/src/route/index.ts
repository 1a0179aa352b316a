/**
 * Stage `route`: the endpoint registry and router of one jurisdiction. It is handed the
 * jurisdiction (decided upstream by `jurisdiction`), holds only that jurisdiction's endpoints,
 * and sends every model call through the jurisdiction's egress guard. There is no
 * cross-jurisdiction fallback in this code: a router cannot even name another jurisdiction's
 * endpoint. `route` never reaches Salesforce.
 */
import type { SovraConfig } from '../config/index.js';
import { readSecret } from '../config/index.js';
import { validationError } from '../shared/errors.js';
import { createRouter, type ModelRouter, type RouterOptions } from './router.js';

export {
  createRouter,
  type AttemptEvent,
  type EndpointFailure,
  type EndpointHealth,
  type ModelRouter,
  type RoutedResult,
  type RoutedStream,
  type RouterOptions,
  type Routing,
} from './router.js';
export { CircuitBreaker, type BreakerOptions, type BreakerState } from './breaker.js';

/**
 * The router of `jurisdiction` (by default the deployment's own) from a loaded config: only that
 * jurisdiction's section is read; secrets resolve against the config file's folder.
 */
export function createJurisdictionRouter(
  config: SovraConfig,
  deps: Omit<RouterOptions, 'jurisdiction' | 'config' | 'secret'> & { jurisdiction?: string; env?: NodeJS.ProcessEnv } = {},
): ModelRouter {
  const jurisdiction = deps.jurisdiction ?? config.deployment.jurisdiction;
  const section = config.jurisdictions[jurisdiction];
  if (!section) {
    throw validationError(`Jurisdiction '${jurisdiction}' is not defined in ${config.source}.`, {
      code: 'JURISDICTION_UNKNOWN',
      fix: `Define it under jurisdictions: or use one of ${Object.keys(config.jurisdictions).join(', ')}.`,
      details: { jurisdiction },
    });
  }
  const { env, jurisdiction: _j, ...rest } = deps;
  return createRouter({
    ...rest,
    jurisdiction,
    config: { endpoints: section.endpoints, egress: section.egress },
    secret: (ref) => readSecret(ref, config.baseDir, env),
  });
}
