import type { Db } from "./db/database.ts";
import type { Actor } from "./authz/Actor.ts";
import type { EventMetadata } from "./eventstore/types.ts";

/** What application services receive instead of constructing anything themselves. */
export type CoreDeps = {
  db: Db;
  clock: () => Date;
  newId: () => string;
};

/** The authenticated caller of one command and the metadata its events will carry. */
export type Caller = { actor: Actor; metadata: EventMetadata };
