/** The OpenAI embeddings wire format (https://platform.openai.com/docs/api-reference/embeddings). */
import { badResponse } from './api.js';

export function embeddingsBody(model: string, input: string[]): Record<string, unknown> {
  return { model, input, encoding_format: 'float' };
}

interface WireEmbeddings {
  data?: { index?: number; embedding?: unknown }[];
  usage?: { prompt_tokens?: number; total_tokens?: number };
}

export function fromEmbeddings(
  wire: WireEmbeddings,
  count: number,
  endpointId: string,
): { vectors: number[][]; usage?: { promptTokens: number; totalTokens: number } } {
  const data = wire.data;
  if (!Array.isArray(data) || data.length !== count) throw badResponse(endpointId, `expected ${count} embeddings`);
  const vectors: number[][] = new Array<number[]>(count);
  data.forEach((d, i) => {
    const idx = typeof d.index === 'number' ? d.index : i;
    if (!Array.isArray(d.embedding) || idx < 0 || idx >= count || !d.embedding.every((x) => typeof x === 'number')) {
      throw badResponse(endpointId, 'an embedding that is not a list of numbers');
    }
    vectors[idx] = d.embedding as number[];
  });
  const out: { vectors: number[][]; usage?: { promptTokens: number; totalTokens: number } } = { vectors };
  if (typeof wire.usage?.prompt_tokens === 'number') {
    out.usage = { promptTokens: wire.usage.prompt_tokens, totalTokens: wire.usage.total_tokens ?? wire.usage.prompt_tokens };
  }
  return out;
}
