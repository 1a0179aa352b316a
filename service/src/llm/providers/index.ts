/**
 * The provider registry: one adapter per provider kind, registered here and nowhere else
 * (after Portkey's gateway `src/providers/index.ts`). A config `provider:` value that is not a
 * key of this map cannot be built.
 */
import type { EndpointConfig } from '../../config/schema.js';
import type { ChatProvider, ProviderContext, ProviderKind } from '../types.js';
import { createEmbeddedProvider } from './embedded/index.js';
import { createOpenAiCompatibleProvider } from './openai-compatible/index.js';

type Factory<K extends ProviderKind> = (endpoint: Extract<EndpointConfig, { provider: K }>, ctx: ProviderContext) => ChatProvider;

export const PROVIDERS: { [K in ProviderKind]: Factory<K> } = {
  'openai-compatible': createOpenAiCompatibleProvider,
  embedded: createEmbeddedProvider,
};

export function createProvider(endpoint: EndpointConfig, ctx: ProviderContext): ChatProvider {
  switch (endpoint.provider) {
    case 'openai-compatible':
      return PROVIDERS['openai-compatible'](endpoint, ctx);
    case 'embedded':
      return PROVIDERS.embedded(endpoint, ctx);
  }
}
