import { randomUUID } from "node:crypto";
import type { Db } from "../db/database.ts";
import { createGraphQLServer } from "../graphql/yoga.ts";
import type { Logger } from "../logger.ts";
import { createServices } from "./createServices.ts";

/** Everything request-facing, built from already-constructed clients (main.ts and tests). */
export function createApp(options: {
  db: Db;
  logger: Logger;
  sessionTtlMs: number;
  secureCookie: boolean;
  clock?: () => Date;
  newId?: () => string;
}) {
  const deps = {
    db: options.db,
    clock: options.clock ?? (() => new Date()),
    newId: options.newId ?? randomUUID,
  };
  const services = createServices(deps, { sessionTtlMs: options.sessionTtlMs });
  const yoga = createGraphQLServer({
    db: options.db,
    services,
    logger: options.logger,
    secureCookie: options.secureCookie,
  });
  return { deps, services, yoga };
}
