/**
 * Group commit: items queued under one key (an organization's chain) are sent together,
 * one batch at a time per key, in queue order. While a batch is in flight the queue
 * grows; when it settles, everything queued meanwhile (up to `maxBatch`) goes next. A lone
 * item waits only for the linger (by default the end of the current event-loop turn, so
 * items submitted together travel together). Every waiter is settled by its own batch:
 * resolved after `send` resolved (for an append: after its COMMIT), rejected with the
 * batch's error otherwise — nobody is told "durable" before it is.
 *
 * Per process; across processes the database's chain lock serialises the batches.
 */
export function createGroupCommit<T, R>(
  send: (key: string, batch: T[]) => Promise<R[]>,
  options: { maxBatch?: number | undefined; lingerMs?: number | undefined } = {},
) {
  const maxBatch = options.maxBatch ?? 256;
  const lingerMs = options.lingerMs ?? 0;
  type Waiter = { item: T; resolve: (result: R) => void; reject: (error: unknown) => void };
  const queues = new Map<string, { waiters: Waiter[]; busy: boolean }>();
  const flushing = new Set<Promise<void>>();

  async function drain(key: string, queue: { waiters: Waiter[]; busy: boolean }) {
    while (queue.waiters.length > 0) {
      const batch = queue.waiters.splice(0, maxBatch);
      try {
        const results = await send(
          key,
          batch.map((w) => w.item),
        );
        if (results.length !== batch.length)
          throw new Error(`a batch of ${batch.length} answered ${results.length} results`);
        batch.forEach((w, i) => w.resolve(results[i]!));
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    queue.busy = false;
    queues.delete(key);
  }

  function schedule(key: string, queue: { waiters: Waiter[]; busy: boolean }) {
    queue.busy = true;
    const run = () => {
      const done = drain(key, queue);
      flushing.add(done);
      void done.finally(() => flushing.delete(done));
    };
    if (lingerMs > 0) setTimeout(run, lingerMs);
    else setImmediate(run);
  }

  return {
    /** Queues one item; settles when the batch that carried it has. */
    submit(key: string, item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        let queue = queues.get(key);
        if (!queue) {
          queue = { waiters: [], busy: false };
          queues.set(key, queue);
        }
        queue.waiters.push({ item, resolve, reject });
        if (!queue.busy) schedule(key, queue);
      });
    },
    /** Waits until every queued item has been sent (shutdown). */
    async drain(): Promise<void> {
      while (queues.size > 0 || flushing.size > 0) {
        await Promise.allSettled([...flushing]);
        if (flushing.size === 0 && queues.size > 0) await new Promise((r) => setImmediate(r));
      }
    },
  };
}

export type GroupCommit<T, R> = ReturnType<typeof createGroupCommit<T, R>>;
