/**
 * The adapter from the gateway's sanitizer port to the sanitize stage: one sanitize session per
 * call, so tokens of one call never restore in another; tool-call JSON arguments are sanitized
 * value by value and restored with JSON escaping. Message `name`s (often a person's name, and
 * not allowed to carry tokens) are dropped rather than sent.
 */
import { DROPPED, createDetokenizeStream, type Sanitizer, type SanitizeSession } from '../../sanitize/index.js';
import type { ChatMessage } from '../../llm/index.js';
import type { GatewaySanitizer, SanitizedConversation, SanitizeInput } from './ports.js';

interface Handle {
  session: SanitizeSession;
}

export function sanitizePort(sanitizer: Sanitizer): GatewaySanitizer {
  return {
    sanitizeMessages(input: SanitizeInput): SanitizedConversation {
      const session = sanitizer.session();
      let tokenized = 0;
      let dropped = 0;
      const text = (s: string): string => {
        const r = session.sanitize(s);
        for (const e of r.entities) {
          if (e.token === DROPPED) dropped += 1;
          else tokenized += 1;
        }
        return r.text;
      };
      const json = (s: string): string => {
        const before = Object.keys(session.tokenMap()).length;
        const out = session.sanitizeJsonText(s);
        tokenized += Object.keys(session.tokenMap()).length - before;
        return out;
      };
      const messages = input.messages.map((m): ChatMessage => {
        const out: ChatMessage = { role: m.role, content: m.content === null ? null : text(m.content) };
        if (m.toolCalls)
          out.toolCalls = m.toolCalls.map((c) => ({ ...c, function: { name: c.function.name, arguments: json(c.function.arguments) } }));
        if (m.toolCallId !== undefined) out.toolCallId = m.toolCallId;
        return out;
      });
      const result: SanitizedConversation = { messages, handle: { session } satisfies Handle, tokenized, dropped };
      if (input.tools) {
        result.tools = input.tools.map((t) => {
          const o = { ...t };
          if (t.description !== undefined) o.description = text(t.description);
          return o;
        });
      }
      if (input.stop) result.stop = input.stop.map(text);
      result.tokenized = tokenized;
      result.dropped = dropped;
      return result;
    },
    createDetokenizer(handle: unknown, options?: { escape?: 'none' | 'json' }) {
      const { session } = handle as Handle;
      return createDetokenizeStream(session.tokenMap(), { escape: options?.escape ?? 'none' });
    },
  };
}
