import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient, type Prisma } from "../generated/prisma/client.ts";

export type Db = PrismaClient;
/** The client inside an interactive transaction: what commands and the event store receive. */
export type Tx = Prisma.TransactionClient;

/**
 * The app's Prisma client over a pg pool. `onStatement`, when given, is called for every
 * SQL statement sent (transaction control included): the benches count queries with it.
 * The pool stays reachable through `poolOf`: the resolution's hot statements (db/hotSql.ts)
 * go to it directly, as named prepared statements, on the same connections and limits.
 */
export function createPrismaClient(
  connectionString: string,
  poolSize = 10,
  onStatement?: () => void,
): Db {
  const pool = new pg.Pool({ connectionString, max: poolSize });
  // An idle connection dropped by the server (e.g. at shutdown) must not crash the process.
  pool.on("error", () => undefined);
  if (onStatement)
    pool.on("connect", (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      client.query = ((...args: unknown[]) => {
        onStatement();
        return query(...args);
      }) as typeof client.query;
    });
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}

/** The pg pool under a client made by createPrismaClient. */
export function poolOf(db: Db): pg.Pool {
  const pool = pools.get(db);
  if (!pool) throw new Error("this Prisma client was not made by createPrismaClient");
  return pool;
}

/** The pg pool under `db`, or undefined for a client made some other way. */
export function knownPool(db: Db): pg.Pool | undefined {
  return pools.get(db);
}

const pools = new WeakMap<Db, pg.Pool>();

/**
 * A hot statement: sent as a named prepared statement straight to the pool when `db` is
 * the app's client (parsed and planned once per connection, no ORM in between), or through
 * Prisma inside a transaction. `text` must be constant per `name`; casts in it decide the
 * types (select bigints as text: pg and Prisma answer them differently).
 */
export async function preparedRows<Row>(
  db: Db | Tx,
  name: string,
  text: string,
  values: unknown[],
): Promise<Row[]> {
  const pool = pools.get(db as Db);
  if (pool) return (await pool.query({ name, text, values })).rows as Row[];
  return db.$queryRawUnsafe<Row[]>(text, ...values);
}
