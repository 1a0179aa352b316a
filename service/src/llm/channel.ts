/** A single-consumer async queue: a producer pushes as values arrive, a `for await` takes them. */
export interface Channel<T> extends AsyncIterable<T> {
  push(value: T): void;
  end(): void;
  fail(err: unknown): void;
}

export function createChannel<T>(onReturn?: () => void): Channel<T> {
  const queue: T[] = [];
  let ended = false;
  let error: { err: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  return {
    push(value: T): void {
      if (ended || error) return;
      queue.push(value);
      notify();
    },
    end(): void {
      ended = true;
      notify();
    },
    fail(err: unknown): void {
      if (!ended && !error) error = { err };
      notify();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<T> {
      try {
        for (;;) {
          if (queue.length > 0) {
            yield queue.shift()!;
            continue;
          }
          if (error) throw error.err;
          if (ended) return;
          await new Promise<void>((r) => (wake = r));
        }
      } finally {
        if (!ended && !error) onReturn?.();
      }
    },
  };
}
