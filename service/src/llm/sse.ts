/**
 * Server-sent events, as OpenAI-compatible servers stream them (WHATWG HTML §9.2 event stream
 * format): lines of `field: value`, events separated by a blank line, `data` lines joined by
 * newlines, comments starting with `:`. Yields each event's data as soon as it is complete.
 */
import { StringDecoder } from 'node:string_decoder';

export interface SseEvent {
  event?: string;
  data: string;
}

export async function* parseSse(body: AsyncIterable<Buffer | string>): AsyncGenerator<SseEvent> {
  const decoder = new StringDecoder('utf8');
  let buffer = '';
  let data: string[] = [];
  let event: string | undefined;
  const takeLine = (line: string): SseEvent | undefined => {
    if (line === '') {
      if (data.length === 0) {
        event = undefined;
        return undefined;
      }
      const out: SseEvent = { data: data.join('\n') };
      if (event !== undefined) out.event = event;
      data = [];
      event = undefined;
      return out;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    return undefined;
  };
  for await (const part of body) {
    buffer += typeof part === 'string' ? part : decoder.write(part);
    let idx: number;
    while ((idx = buffer.search(/\r\n|\r|\n/)) !== -1) {
      const line = buffer.slice(0, idx);
      const sepLen = buffer[idx] === '\r' && buffer[idx + 1] === '\n' ? 2 : 1;
      // A lone \r at the very end may be the first half of \r\n: wait for more bytes.
      if (buffer[idx] === '\r' && idx + 1 === buffer.length) break;
      buffer = buffer.slice(idx + sepLen);
      const ev = takeLine(line);
      if (ev) yield ev;
    }
  }
  buffer += decoder.end();
  if (buffer.length > 0) {
    const ev = takeLine(buffer.replace(/\r$/, ''));
    if (ev) yield ev;
  }
  const last = takeLine('');
  if (last) yield last;
}
