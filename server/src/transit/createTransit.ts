import type { TransitConfig } from "../config.ts";
import { knownPool, type Db } from "../db/database.ts";
import type { Logger } from "../logger.ts";
import { LocalTransit } from "./LocalTransit.ts";
import { loadMasterKey } from "./masterKey.ts";
import { PrismaKeyringStore } from "./PrismaKeyringStore.ts";
import type { Transit } from "./Transit.ts";
import { VaultTransit } from "./VaultTransit.ts";

export type TransitHandle = { transit: Transit; stop(): Promise<void> };

/**
 * The transit adapter the configuration asks for: Vault's transit engine when VAULT_ADDR
 * is set, else the embedded LocalTransit over the database (with a loud warning).
 */
export async function createTransit(
  config: TransitConfig,
  deps: { db: Db; dataDir: string; logger: Logger },
): Promise<TransitHandle> {
  if (config.kind === "vault") {
    const transit = new VaultTransit({
      address: config.address,
      auth: config.auth,
      mount: config.mount,
      namespace: config.namespace,
      timeoutMs: config.timeoutMs,
      logger: deps.logger,
    });
    deps.logger.info(
      { address: config.address, mount: config.mount, auth: config.auth.kind },
      "transit: Vault",
    );
    // In the background: a Vault that is down must not hold up startup (it never throws).
    void transit.startTokenRenewal();
    return { transit, stop: () => transit.stop() };
  }
  const masterKey = await loadMasterKey({ configured: config.masterKey, dataDir: deps.dataDir });
  deps.logger.warn(
    { masterKey: masterKey.origin },
    "LocalTransit: development only — production should use Vault (VAULT_ADDR)",
  );
  const store = new PrismaKeyringStore(deps.db, masterKey.key);
  // Keyrings are then read from memory, and every replica drops its copy when one changes.
  const connectionString = knownPool(deps.db)?.options.connectionString;
  const stopListening = connectionString
    ? await store.listen(connectionString, (error) =>
        deps.logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          "transit keyring subscription lost; reading keyrings from the database until it is back",
        ),
      )
    : async () => undefined;
  return { transit: new LocalTransit(store), stop: stopListening };
}
