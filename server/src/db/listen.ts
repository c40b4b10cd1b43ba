import pg from "pg";

export type ListenHandlers = {
  /** A change announced on the channel (delivered when the announcing transaction commits). */
  onNotification(payload: string): void;
  /** Subscribed (first time and after every reconnection): what is cached from now on is current. */
  onSubscribed(): void;
  /** The subscription is gone until it reconnects: nothing cached may be trusted meanwhile. */
  onLost(error: unknown): void;
};

const RECONNECT_MS = 1_000;

/**
 * `LISTEN channel` on a connection of its own, reconnecting every second while lost: what
 * the in-process caches (transit keyrings, API tokens) use to drop their copies when any
 * process changes the rows behind them. Resolves once subscribed; returns the function
 * that stops it (the caller then stops trusting its cache: onLost is not called for that).
 */
export async function listen(
  connectionString: string,
  channel: string,
  handlers: ListenHandlers,
): Promise<() => Promise<void>> {
  if (!/^[a-z_]+$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    const next = new pg.Client({ connectionString });
    next.on("notification", (message) => handlers.onNotification(message.payload ?? ""));
    next.on("error", (error) => {
      handlers.onLost(error);
      void next.end().catch(() => undefined);
      if (!stopped)
        retry = setTimeout(() => void connect().catch(() => undefined), RECONNECT_MS).unref();
    });
    await next.connect();
    await next.query(`LISTEN ${channel}`);
    client = next;
    handlers.onSubscribed();
  };
  await connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    await client?.end().catch(() => undefined);
  };
}
