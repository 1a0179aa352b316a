/**
 * Provider `embedded`: a GGUF model run in-process on CPU by node-llama-cpp — the default for a
 * single machine, and nothing leaves the process at all. The model file comes from config
 * (`modelPath`, or SOVRA_MODEL_PATH applied by the config stage); nothing is downloaded.
 * One context sequence per endpoint, so calls are served one at a time in arrival order.
 * Threads default to 1: on small machines more threads made generation collapse (see
 * ../shared/models/README.md).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type * as NodeLlamaCppModule from 'node-llama-cpp';
import type { ChatHistoryItem } from 'node-llama-cpp';
import type { EndpointConfig } from '../../../config/schema.js';
import { SovraError, timeoutError, validationError } from '../../../shared/errors.js';
import { createChannel } from '../../channel.js';
import type {
  ChatChunk,
  ChatMessage,
  ChatProvider,
  ChatRequest,
  ChatResult,
  ChatStream,
  EmbeddingRequest,
  EmbeddingResult,
  FinishReason,
  ProviderContext,
  ToolCall,
} from '../../types.js';

type EmbeddedEndpoint = Extract<EndpointConfig, { provider: 'embedded' }>;
type NodeLlamaCpp = typeof NodeLlamaCppModule;
type Llama = Awaited<ReturnType<NodeLlamaCpp['getLlama']>>;
type LlamaModel = Awaited<ReturnType<Llama['loadModel']>>;
type LlamaContext = Awaited<ReturnType<LlamaModel['createContext']>>;
type LlamaEmbeddingContext = Awaited<ReturnType<LlamaModel['createEmbeddingContext']>>;

export const PROVIDER = 'embedded';

let runtime: Promise<{ lib: NodeLlamaCpp; llama: Llama }> | undefined;

/** One llama.cpp runtime per process, CPU only, never building or downloading binaries. */
function llamaRuntime(): Promise<{ lib: NodeLlamaCpp; llama: Llama }> {
  runtime ??= (async () => {
    const lib = await import('node-llama-cpp');
    const llama = await lib.getLlama({
      gpu: false,
      build: 'never',
      maxThreads: 1,
      logLevel: lib.LlamaLogLevel.error,
      logger: () => undefined,
    });
    return { lib, llama };
  })().catch((err: unknown) => {
    runtime = undefined;
    throw new SovraError('unavailable', 'The embedded model runtime (node-llama-cpp) could not start on this machine.', {
      code: 'EMBEDDED_RUNTIME_UNAVAILABLE',
      fix: 'Install the prebuilt binary for this platform (e.g. @node-llama-cpp/linux-x64) or use an openai-compatible endpoint.',
      cause: err,
      retryable: false,
    });
  });
  return runtime;
}

export function missingModelError(endpointId: string, modelPath: string): SovraError {
  return validationError(`The model file of embedded endpoint '${endpointId}' does not exist: ${modelPath}.`, {
    code: 'MODEL_FILE_MISSING',
    fix: 'Set modelPath of this endpoint in the config (relative to the config file) or set SOVRA_MODEL_PATH to a GGUF file, e.g. ../shared/models/stories260K.gguf.',
    details: { endpointId, modelPath },
    retryable: false,
  });
}

function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  for (const m of messages) {
    const text = m.content ?? '';
    if (m.role === 'system') history.push({ type: 'system', text });
    else if (m.role === 'user') history.push({ type: 'user', text });
    else if (m.role === 'assistant') {
      const calls = (m.toolCalls ?? []).map((c) => `[called ${c.function.name}(${c.function.arguments})]`);
      history.push({ type: 'model', response: [[text, ...calls].filter((s) => s.length > 0).join('\n')] });
    } else history.push({ type: 'user', text: `Tool result${m.toolCallId ? ` for ${m.toolCallId}` : ''}: ${text}` });
  }
  history.push({ type: 'model', response: [] });
  return history;
}

function toFinish(stopReason: string | undefined, calls: number): FinishReason {
  if (calls > 0 || stopReason === 'functionCalls') return 'tool_calls';
  if (stopReason === 'maxTokens') return 'length';
  return 'stop';
}

export function createEmbeddedProvider(endpoint: EmbeddedEndpoint, _ctx: ProviderContext): ChatProvider {
  const { id: endpointId, model: modelName, modelPath, contextSize, maxTokens: maxTokensDefault, threads, timeoutMs } = endpoint;
  let loaded: Promise<{ lib: NodeLlamaCpp; model: LlamaModel; context: LlamaContext }> | undefined;
  let embedding: Promise<LlamaEmbeddingContext> | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const load = (): Promise<{ lib: NodeLlamaCpp; model: LlamaModel; context: LlamaContext }> => {
    loaded ??= (async () => {
      if (!existsSync(modelPath)) throw missingModelError(endpointId, modelPath);
      const { lib, llama } = await llamaRuntime();
      const model = await llama.loadModel({ modelPath });
      const context = await model.createContext({ contextSize, threads, sequences: 1 });
      return { lib, model, context };
    })().catch((err: unknown) => {
      loaded = undefined;
      if (err instanceof SovraError) throw err;
      throw new SovraError('unavailable', `The embedded model of endpoint '${endpointId}' could not be loaded.`, {
        code: 'MODEL_LOAD_FAILED',
        fix: 'Check that modelPath (or SOVRA_MODEL_PATH) names a valid GGUF file and that contextSize fits in memory.',
        details: { endpointId, modelPath },
        cause: err,
        retryable: false,
      });
    });
    return loaded;
  };

  /** Runs one job at a time on the endpoint's single sequence. */
  const exclusive = <T>(job: () => Promise<T>): Promise<T> => {
    const run = queue.then(job, job);
    queue = run.catch(() => undefined);
    return run;
  };

  async function generate(
    req: ChatRequest,
    onText: (text: string) => void,
  ): Promise<{ content: string; toolCalls: ToolCall[]; finishReason: FinishReason; promptTokens: number; completionTokens: number }> {
    const { lib, context } = await load();
    const sequence = context.getSequence();
    const chat = new lib.LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort(new Error('timeout'));
    }, timeoutMs);
    const before = { input: sequence.tokenMeter.usedInputTokens, output: sequence.tokenMeter.usedOutputTokens };
    try {
      const functions =
        req.tools && req.tools.length > 0 && req.toolChoice !== 'none'
          ? Object.fromEntries(req.tools.map((t) => [t.name, { description: t.description, params: t.parameters as never }]))
          : undefined;
      const res = await chat.generateResponse(toHistory(req.messages), {
        maxTokens: req.maxTokens ?? maxTokensDefault,
        temperature: req.temperature ?? 0,
        customStopTriggers: req.stop,
        signal: ctl.signal,
        stopOnAbortSignal: false,
        functions,
        onTextChunk: onText,
      });
      if (ctl.signal.aborted) throw ctl.signal.reason;
      const toolCalls: ToolCall[] = (res.functionCalls ?? []).map((c) => ({
        id: `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
        type: 'function',
        function: { name: String(c.functionName), arguments: JSON.stringify(c.params ?? {}) },
      }));
      return {
        content: res.response,
        toolCalls,
        finishReason: toFinish(res.metadata.stopReason, toolCalls.length),
        promptTokens: sequence.tokenMeter.usedInputTokens - before.input,
        completionTokens: sequence.tokenMeter.usedOutputTokens - before.output,
      };
    } catch (err) {
      if (timedOut) {
        throw timeoutError(`The embedded model of endpoint '${endpointId}' did not finish within ${timeoutMs} ms.`, {
          code: 'UPSTREAM_TIMEOUT',
          fix: 'Lower maxTokens or raise timeoutMs for this endpoint.',
          details: { endpointId, provider: PROVIDER, timeoutMs },
          retryable: false,
        });
      }
      if (req.signal?.aborted) {
        throw new SovraError('unavailable', `The call to embedded endpoint '${endpointId}' was cancelled.`, {
          code: 'UPSTREAM_CANCELLED',
          details: { endpointId, provider: PROVIDER },
          retryable: false,
        });
      }
      if (err instanceof SovraError) throw err;
      const msg = err instanceof Error ? err.message : '';
      if (/context size|fits the context/i.test(msg)) {
        throw validationError(
          `The prompt (with its tool definitions) does not fit the context of embedded endpoint '${endpointId}' (${contextSize} tokens).`,
          {
            code: 'CONTEXT_TOO_SMALL',
            fix: 'Shorten the prompt, drop tools, or raise contextSize of the endpoint.',
            details: { endpointId, provider: PROVIDER, contextSize },
            retryable: false,
          },
        );
      }
      throw new SovraError('upstream', `The embedded model of endpoint '${endpointId}' failed while generating.`, {
        code: 'EMBEDDED_GENERATION_FAILED',
        details: { endpointId, provider: PROVIDER },
        cause: err,
        retryable: false,
      });
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      chat.dispose({ disposeSequence: false });
      // The next call starts from an empty sequence: no history of another caller stays cached.
      await sequence.clearHistory();
      sequence.dispose();
    }
  }

  async function complete(req: ChatRequest): Promise<ChatResult> {
    const r = await exclusive(() => generate(req, () => undefined));
    return {
      id: `chatcmpl-${randomUUID()}`,
      endpointId,
      provider: PROVIDER,
      model: modelName,
      content: r.content,
      toolCalls: r.toolCalls,
      finishReason: r.finishReason,
      usage: { promptTokens: r.promptTokens, completionTokens: r.completionTokens, totalTokens: r.promptTokens + r.completionTokens },
    };
  }

  async function stream(req: ChatRequest): Promise<ChatStream> {
    // Fail before the stream starts when the model cannot load, so the router can fail over.
    await load();
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const channel = createChannel<ChatChunk>(() => ctl.abort(new Error('consumer stopped')));
    exclusive(() => generate({ ...req, signal: ctl.signal }, (text) => channel.push({ contentDelta: text })))
      .then((r) => {
        const last: ChatChunk = {
          finishReason: r.finishReason,
          usage: { promptTokens: r.promptTokens, completionTokens: r.completionTokens, totalTokens: r.promptTokens + r.completionTokens },
        };
        if (r.toolCalls.length > 0)
          last.toolCallDeltas = r.toolCalls.map((t, index) => ({
            index,
            id: t.id,
            name: t.function.name,
            argumentsDelta: t.function.arguments,
          }));
        channel.push(last);
        channel.end();
      })
      .catch((err: unknown) => channel.fail(err))
      .finally(() => req.signal?.removeEventListener('abort', onAbort));
    return {
      id: `chatcmpl-${randomUUID()}`,
      endpointId,
      provider: PROVIDER,
      model: modelName,
      [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator](),
    };
  }

  function chat(request: ChatRequest & { stream: true }): Promise<ChatStream>;
  function chat(request: ChatRequest & { stream?: false }): Promise<ChatResult>;
  function chat(request: ChatRequest): Promise<ChatResult | ChatStream>;
  function chat(request: ChatRequest): Promise<ChatResult | ChatStream> {
    return request.stream ? stream(request) : complete(request);
  }

  return {
    endpointId,
    kind: PROVIDER,
    model: modelName,
    chat,
    async embed(req: EmbeddingRequest): Promise<EmbeddingResult> {
      const { model } = await load();
      embedding ??= model.createEmbeddingContext({ contextSize: Math.min(contextSize, 512), threads });
      const ectx = await embedding;
      const vectors = await exclusive(async () => {
        const out: number[][] = [];
        for (const text of req.input) out.push([...(await ectx.getEmbeddingFor(text)).vector]);
        return out;
      });
      return { endpointId, provider: PROVIDER, model: modelName, vectors };
    },
    async probe(): Promise<void> {
      await load();
    },
    async close(): Promise<void> {
      const e = embedding;
      const l = loaded;
      embedding = undefined;
      loaded = undefined;
      await queue;
      if (e) await (await e.catch(() => undefined))?.dispose();
      if (l) {
        const m = await l.catch(() => undefined);
        if (m) {
          await m.context.dispose();
          await m.model.dispose();
        }
      }
    },
  };
}
