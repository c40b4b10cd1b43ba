import { createHash } from "node:crypto";
import type { Db, Tx } from "../db/database.ts";
import type { ApiTokenEvent } from "../domain/apiToken/events.ts";
import type { InvitationEvent } from "../domain/invitation/events.ts";
import type { OrganizationEvent } from "../domain/organization/events.ts";
import type { SecretEvent } from "../domain/secret/events.ts";
import type { TransitKeyEvent } from "../domain/transitKey/events.ts";
import type { UserEvent } from "../domain/user/events.ts";
import type { WorkspaceEvent } from "../domain/workspace/events.ts";
import { readAllEvents } from "../eventstore/read.ts";
import type { StoredEvent } from "../eventstore/types.ts";
import { projectUsage } from "../resolution/projectUsage.ts";
import { projectSecret } from "../secrets/projectSecret.ts";
import {
  projectApiToken,
  projectInvitation,
  projectOrganization,
  projectWorkspace,
} from "../tenancy/projections.ts";

/**
 * Replays the whole event log, in position order, through the same projection functions
 * the commands use, into `target` (a fresh, migrated database). What events deliberately
 * do not carry (password, token and session hashes, ciphertexts) gets a placeholder;
 * compare.ts leaves those columns out.
 */
export async function replayInto(source: Db, target: Db): Promise<number> {
  let count = 0;
  for await (const page of readAllEvents(source, 500)) {
    await target.$transaction(async (tx) => {
      for (const event of page) await project(tx, event);
    });
    count += page.length;
  }
  return count;
}

async function project(tx: Tx, event: StoredEvent): Promise<void> {
  const [kind, id] = splitStream(event.streamId);
  const now = event.occurredAt;
  const actor = event.metadata.actor;
  switch (kind) {
    case "user": {
      const e = event as unknown as UserEvent;
      if (e.type === "UserRegistered") {
        await tx.user.create({
          data: {
            id: e.data.userId,
            email: e.data.email,
            name: e.data.name,
            passwordHash: "(not in the event log)",
            createdAt: now,
          },
        });
      }
      return;
    }
    case "organization":
      return projectOrganization(id)(tx, [event as unknown as OrganizationEvent], now);
    case "workspace":
      return projectWorkspace(id)(tx, [event as unknown as WorkspaceEvent], now);
    case "api-token":
      return projectApiToken(id, {
        tokenHash: createHash("sha256").update(id).digest("hex"),
        createdBy: actor.id,
      })(tx, [event as unknown as ApiTokenEvent], now);
    case "invitation":
      return projectInvitation(id, {
        tokenHash: createHash("sha256").update(id).digest("hex"),
      })(tx, [event as unknown as InvitationEvent], now);
    case "secret":
      // A huge key version passes the minimum-version check; ciphertexts are not compared.
      return projectSecret(id, event.organizationId!, {
        ciphertext: "(not in the event log)",
        keyVersion: 2 ** 31 - 1,
        createdBy: `${actor.kind}:${actor.id}`,
      })(tx, [event as unknown as SecretEvent], now);
    case "usage":
      if (event.type === "SecretsResolved") await projectUsage(tx, event);
      return;
    case "transit-key": {
      const e = event as unknown as TransitKeyEvent;
      // Logs written before TransitKeyMinimumRaised existed raise it at completion.
      if (e.type === "TransitKeyMinimumRaised" || e.type === "SecretsRewrapCompleted") {
        await tx.organization.updateMany({
          where: { id, transitMinVersion: { lt: e.data.minDecryptionVersion } },
          data: { transitMinVersion: e.data.minDecryptionVersion },
        });
      }
      return;
    }
    default:
      // oauth-*, sso-*: providers, connections and identity providers are operational
      // state written beside their events (see compare.ts, which leaves those tables out).
      return;
  }
}

function splitStream(streamId: string): [string, string] {
  const match = /^(.*)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(
    streamId,
  );
  return match ? [match[1]!, match[2]!] : [streamId, ""];
}
