import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient, type Prisma } from "../generated/prisma/client.ts";

export type Db = PrismaClient;
/** The client inside an interactive transaction: what commands and the event store receive. */
export type Tx = Prisma.TransactionClient;

/**
 * The app's Prisma client over a pg pool. `onStatement`, when given, is called for every
 * SQL statement sent (transaction control included): the benches count queries with it.
 */
export function createPrismaClient(
  connectionString: string,
  poolSize = 10,
  onStatement?: () => void,
): Db {
  if (!onStatement)
    return new PrismaClient({ adapter: new PrismaPg({ connectionString, max: poolSize }) });
  const pool = new pg.Pool({ connectionString, max: poolSize });
  // An idle connection dropped by the server (e.g. at shutdown) must not crash the process.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      onStatement();
      return query(...args);
    }) as typeof client.query;
  });
  return new PrismaClient({ adapter: new PrismaPg(pool) });
}
