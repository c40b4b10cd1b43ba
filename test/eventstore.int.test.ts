import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendToStream } from "../server/src/eventstore/append.ts";
import { ConcurrencyError } from "../server/src/eventstore/ConcurrencyError.ts";
import { readOrganizationEvents, readStream } from "../server/src/eventstore/read.ts";
import { verifyChain } from "../server/src/eventstore/verifyChain.ts";
import type { EventMetadata } from "../server/src/eventstore/types.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

const metadata: EventMetadata = { actor: { kind: "system", id: "test" }, requestId: "req-1" };
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const append = (
  streamId: string,
  organizationId: string,
  expectedVersion: "no_stream" | "any" | number,
  types: string[],
) =>
  t.db.$transaction((tx) =>
    appendToStream(tx, {
      streamId,
      organizationId,
      expectedVersion,
      events: types.map((type) => ({ type, data: { n: type } })),
      metadata,
      now: new Date(),
    }),
  );

describe("appending", () => {
  it("numbers stream versions, links every event to the previous hash of its organization", async () => {
    const org = randomUUID();
    const first = await append(`s-${randomUUID()}`, org, "no_stream", ["A", "B"]);
    const second = await append(`s-${randomUUID()}`, org, "no_stream", ["C"]);
    expect(first.map((e) => e.streamVersion)).toEqual([1, 2]);
    expect(first[0]!.prevHash).toBe("0".repeat(64));
    expect(first[1]!.prevHash).toBe(first[0]!.hash);
    expect(second[0]!.prevHash).toBe(first[1]!.hash);
    expect(second[0]!.position).toBeGreaterThan(first[1]!.position);
    expect(await verifyChain(t.db, org)).toMatchObject({
      ok: true,
      eventCount: 3,
      headHash: second[0]!.hash,
    });
  });

  it("rejects a wrong expected version with a typed error and writes nothing", async () => {
    const org = randomUUID();
    const stream = `s-${randomUUID()}`;
    await append(stream, org, "no_stream", ["A"]);
    await expect(append(stream, org, 5, ["B"])).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(append(stream, org, "no_stream", ["B"])).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await readStream(t.db, stream)).map((e) => e.type)).toEqual(["A"]);
    await expect(append(stream, org, 1, ["B"])).resolves.toHaveLength(1);
  });

  it("lets exactly one of two concurrent appends at the same version win", async () => {
    const org = randomUUID();
    const stream = `s-${randomUUID()}`;
    await append(stream, org, "no_stream", ["A"]);
    const results = await Promise.allSettled([
      append(stream, org, 1, ["B1"]),
      append(stream, org, 1, ["B2"]),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    expect(await readStream(t.db, stream)).toHaveLength(2);
    expect((await verifyChain(t.db, org)).ok).toBe(true);
  });

  it("keeps each organization's chain intact under concurrent appends to many streams", async () => {
    const org = randomUUID();
    await Promise.all(
      Array.from({ length: 20 }, () => append(`s-${randomUUID()}`, org, "no_stream", ["X", "Y"])),
    );
    expect(await verifyChain(t.db, org)).toMatchObject({ ok: true, eventCount: 40 });
  });

  it("reads an organization's events by position with stream, type, actor and time filters", async () => {
    const org = randomUUID();
    const stream = `s-${randomUUID()}`;
    const written = await append(stream, org, "no_stream", ["A", "B", "A"]);
    await append(`s-${randomUUID()}`, randomUUID(), "no_stream", ["A"]); // another organization
    const all = await readOrganizationEvents(t.db, org, {}, 100);
    expect(all.map((e) => e.type)).toEqual(["A", "B", "A"]);
    expect(
      (await readOrganizationEvents(t.db, org, { types: ["A"] }, 100)).map((e) => e.position),
    ).toEqual([written[0]!.position, written[2]!.position]);
    expect(
      await readOrganizationEvents(t.db, org, { afterPosition: written[0]!.position }, 1),
    ).toHaveLength(1);
    expect(await readOrganizationEvents(t.db, org, { actorId: "someone-else" }, 100)).toHaveLength(
      0,
    );
    expect(
      await readOrganizationEvents(
        t.db,
        org,
        { streamId: stream, since: new Date(Date.now() + 60_000) },
        100,
      ),
    ).toHaveLength(0);
  });
});

describe("the events table is append-only", () => {
  it("refuses UPDATE, DELETE and TRUNCATE from the application's connection", async () => {
    const org = randomUUID();
    await append(`s-${randomUUID()}`, org, "no_stream", ["A"]);
    for (const sql of [
      `UPDATE events SET type = 'B' WHERE organization_id = '${org}'`,
      `DELETE FROM events WHERE organization_id = '${org}'`,
      `TRUNCATE events`,
    ]) {
      await expect(t.db.$executeRawUnsafe(sql), sql).rejects.toThrow(
        /permission denied|append-only/,
      );
    }
    expect(await verifyChain(t.db, org)).toMatchObject({ ok: true, eventCount: 1 });
  });

  it("refuses UPDATE and DELETE even from the table owner, through the triggers", async () => {
    const org = randomUUID();
    await append(`s-${randomUUID()}`, org, "no_stream", ["A"]);
    await expect(
      t.database.admin(`UPDATE events SET type = 'B' WHERE organization_id = $1`, [org]),
    ).rejects.toThrow(/append-only/);
    await expect(
      t.database.admin(`DELETE FROM events WHERE organization_id = $1`, [org]),
    ).rejects.toThrow(/append-only/);
    await expect(t.database.admin(`TRUNCATE events`)).rejects.toThrow(/append-only/);
  });

  it("has an application role that cannot disable the triggers", async () => {
    await expect(t.db.$executeRawUnsafe(`ALTER TABLE events DISABLE TRIGGER USER`)).rejects.toThrow(
      /owner|permission/,
    );
  });
});
