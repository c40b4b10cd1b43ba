import { Prisma } from "../generated/prisma/client.ts";
import type { Db, Tx } from "../db/database.ts";
import type { EventMetadata, StoredEvent } from "./types.ts";

type Row = {
  position: bigint;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  organization_id: string | null;
  occurred_at: Date;
  prev_hash: string;
  hash: string;
};

const COLUMNS = Prisma.sql`position, stream_id, stream_version, type, schema_version, data, metadata,
  organization_id::text AS organization_id, occurred_at, prev_hash, hash`;

export function toStoredEvent(row: Row): StoredEvent {
  return {
    position: row.position,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    organizationId: row.organization_id,
    occurredAt: row.occurred_at,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export async function readStream(db: Db | Tx, streamId: string): Promise<StoredEvent[]> {
  const rows = await db.$queryRaw<Row[]>`
    SELECT ${COLUMNS} FROM events WHERE stream_id = ${streamId} ORDER BY stream_version`;
  return rows.map(toStoredEvent);
}

export type EventFilter = {
  afterPosition?: bigint | undefined;
  streamId?: string | undefined;
  types?: string[] | undefined;
  actorId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
};

/** An organization's events in position order, oldest first, `limit` at a time. */
export async function readOrganizationEvents(
  db: Db | Tx,
  organizationId: string,
  filter: EventFilter,
  limit: number,
): Promise<StoredEvent[]> {
  const conditions = [Prisma.sql`organization_id = ${organizationId}::uuid`];
  if (filter.afterPosition !== undefined)
    conditions.push(Prisma.sql`position > ${filter.afterPosition}`);
  if (filter.streamId) conditions.push(Prisma.sql`stream_id = ${filter.streamId}`);
  if (filter.types?.length) conditions.push(Prisma.sql`type = ANY(${filter.types}::text[])`);
  if (filter.actorId) conditions.push(Prisma.sql`metadata->'actor'->>'id' = ${filter.actorId}`);
  if (filter.since) conditions.push(Prisma.sql`occurred_at >= ${filter.since}`);
  if (filter.until) conditions.push(Prisma.sql`occurred_at < ${filter.until}`);
  const rows = await db.$queryRaw<Row[]>`
    SELECT ${COLUMNS} FROM events WHERE ${Prisma.join(conditions, " AND ")}
    ORDER BY position LIMIT ${limit}`;
  return rows.map(toStoredEvent);
}

/** An organization's events after `afterPosition` (all when undefined), in position order, a page at a time. */
export async function* readOrganizationPages(
  db: Db | Tx,
  organizationId: string,
  afterPosition: bigint | undefined,
  pageSize: number,
): AsyncGenerator<StoredEvent[]> {
  for (let after = afterPosition; ;) {
    const page = await readOrganizationEvents(
      db,
      organizationId,
      { afterPosition: after },
      pageSize,
    );
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.position;
  }
}

/** Every event of every organization (and the global chain), in position order, a page at a time. */
export async function* readAllEvents(db: Db | Tx, pageSize: number): AsyncGenerator<StoredEvent[]> {
  let after = -1n;
  for (;;) {
    const rows = await db.$queryRaw<Row[]>`
      SELECT ${COLUMNS} FROM events WHERE position > ${after} ORDER BY position LIMIT ${pageSize}`;
    if (rows.length === 0) return;
    yield rows.map(toStoredEvent);
    after = rows[rows.length - 1]!.position;
  }
}
