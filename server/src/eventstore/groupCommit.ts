/**
 * Group commit: items queued under one key (an organization's chain) are sent together.
 * At most `inFlight` batches per key are sent at once (default 2: while the database runs
 * one under the chain lock, the next is encoded, sent and parsed, and takes the lock the
 * moment the first commits); whatever queues meanwhile (up to `maxBatch`) goes next. A
 * lone item waits only for the linger (by default the end of the current event-loop turn,
 * so items submitted together travel together). Within a batch, items keep queue order.
 * Every waiter is settled by its own batch: resolved after `send` resolved (for an append:
 * after its COMMIT), rejected with the batch's error otherwise — nobody is told "durable"
 * before it is.
 *
 * Per process; across processes the database's chain lock serialises the batches.
 */
export function createGroupCommit<T, R>(
  send: (key: string, batch: T[]) => Promise<R[]>,
  options: {
    maxBatch?: number | undefined;
    lingerMs?: number | undefined;
    inFlight?: number | undefined;
  } = {},
) {
  const maxBatch = options.maxBatch ?? 256;
  const lingerMs = options.lingerMs ?? 0;
  const inFlight = options.inFlight ?? 2;
  type Waiter = { item: T; resolve: (result: R) => void; reject: (error: unknown) => void };
  type Queue = { waiters: Waiter[]; lanes: number };
  const queues = new Map<string, Queue>();
  const sending = new Set<Promise<void>>();

  async function sendBatch(key: string, queue: Queue) {
    const batch = queue.waiters.splice(0, maxBatch);
    try {
      if (batch.length === 0) return;
      const results = await send(
        key,
        batch.map((w) => w.item),
      );
      if (results.length !== batch.length)
        throw new Error(`a batch of ${batch.length} answered ${results.length} results`);
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      queue.lanes--;
      if (queue.waiters.length > 0) schedule(key, queue, 0);
      else if (queue.lanes === 0) queues.delete(key);
    }
  }

  function schedule(key: string, queue: Queue, linger: number) {
    if (queue.lanes >= inFlight) return; // a lane that settles takes what is queued
    queue.lanes++;
    const run = () => {
      const done = sendBatch(key, queue);
      sending.add(done);
      void done.finally(() => sending.delete(done));
    };
    if (linger > 0) setTimeout(run, linger);
    else setImmediate(run);
  }

  return {
    /** Queues one item; settles when the batch that carried it has. */
    submit(key: string, item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        let queue = queues.get(key);
        if (!queue) {
          queue = { waiters: [], lanes: 0 };
          queues.set(key, queue);
        }
        queue.waiters.push({ item, resolve, reject });
        // One lane waits for the turn's other items; a second opens only once one is busy.
        if (queue.lanes === 0) schedule(key, queue, lingerMs);
        else if (queue.waiters.length === 1) schedule(key, queue, 0);
      });
    },
    /** Waits until every queued item has been sent (shutdown). */
    async drain(): Promise<void> {
      while (queues.size > 0 || sending.size > 0) {
        await Promise.allSettled([...sending]);
        if (sending.size === 0 && queues.size > 0) await new Promise((r) => setImmediate(r));
      }
    },
  };
}

export type GroupCommit<T, R> = ReturnType<typeof createGroupCommit<T, R>>;
