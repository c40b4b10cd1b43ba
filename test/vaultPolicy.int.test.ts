import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VaultTransit } from "../server/src/transit/VaultTransit.ts";
import { startVaultDouble, type VaultDouble } from "./testkit/vaultDouble.ts";

/**
 * The compose stack's Vault set-up must grant exactly what the Vault adapter uses: every
 * request VaultTransit makes in a full key lifecycle is allowed by deploy/coffer-policy.hcl,
 * and vault-init.sh creates that mount, that policy and a token with it. (The double only
 * records the requests here; what Vault answers is the contract suite's business.)
 */
const root = path.resolve(import.meta.dirname, "..");
const policyText = readFileSync(path.join(root, "deploy/coffer-policy.hcl"), "utf8");
const initScript = readFileSync(path.join(root, "deploy/vault-init.sh"), "utf8");
const compose = readFileSync(path.join(root, "docker-compose.yml"), "utf8");

type Rule = { path: string; capabilities: string[]; deniedParameters: string[] };
const rules: Rule[] = [
  ...policyText.replace(/#.*$/gm, "").matchAll(/path\s+"([^"]+)"\s*\{([\s\S]*?)\n\}/g),
].map((m) => ({
  path: m[1]!,
  capabilities: [
    ...(/capabilities\s*=\s*\[([^\]]*)\]/.exec(m[2]!)?.[1] ?? "").matchAll(/"([^"]+)"/g),
  ].map((c) => c[1]!),
  deniedParameters: [
    ...(/denied_parameters\s*=\s*\{([\s\S]*?)\}/.exec(m[2]!)?.[1] ?? "").matchAll(/"([^"]+)"\s*=/g),
  ].map((c) => c[1]!),
}));

const ruleFor = (requestPath: string) =>
  rules
    .filter((r) =>
      r.path.endsWith("*") ? requestPath.startsWith(r.path.slice(0, -1)) : requestPath === r.path,
    )
    .sort((a, b) => b.path.length - a.path.length)[0];

let double: VaultDouble;
let transit: VaultTransit;
beforeAll(async () => {
  double = await startVaultDouble();
  transit = new VaultTransit({
    address: double.url,
    auth: { kind: "token", token: "policy-check" },
    timeoutMs: 2_000,
  });
  const key = "coffer-org-00000000-0000-4000-8000-000000000000";
  await transit.createKey(key);
  await transit.readKey(key);
  const [ciphertext] = await transit.encrypt(key, [Buffer.from("x")]);
  await transit.decrypt(key, [ciphertext!]);
  await transit.rotateKey(key);
  const [rewrapped] = await transit.rewrap(key, [ciphertext!]);
  await transit.setMinDecryptionVersion(key, 2);
  await transit.decrypt(key, [rewrapped!]);
  await transit.deleteKey(key);
  // Users' TOTP seeds (auth/mfaService.ts): created, encrypted, decrypted, never deleted.
  await transit.createKey("coffer-users");
  const [seed] = await transit.encrypt("coffer-users", [Buffer.from("seed")]);
  await transit.decrypt("coffer-users", [seed!]);
});
afterAll(async () => {
  await transit.stop();
  await double.close();
});

describe("deploy/coffer-policy.hcl", () => {
  it("parses into rules", () => {
    expect(rules.map((r) => r.path)).toEqual(
      expect.arrayContaining([
        "transit/keys/coffer-org-*",
        "transit/encrypt/coffer-org-*",
        "transit/decrypt/coffer-org-*",
        "transit/rewrap/coffer-org-*",
      ]),
    );
  });

  it("allows every transit request the adapter makes, and no parameter it denies", () => {
    const transitRequests = double.requests.filter((r) => r.path.startsWith("transit/"));
    expect(transitRequests.length).toBeGreaterThanOrEqual(8);
    for (const request of transitRequests) {
      const rule = ruleFor(request.path);
      expect(rule, `${request.method} ${request.path}`).toBeDefined();
      const needed =
        request.method === "GET"
          ? ["read"]
          : request.method === "DELETE"
            ? ["delete"]
            : ["create", "update"];
      expect(
        needed.some((c) => rule!.capabilities.includes(c)),
        `${request.method} ${request.path} needs ${needed.join(" or ")}`,
      ).toBe(true);
      for (const parameter of rule!.deniedParameters)
        expect(Object.keys(request.body ?? {}), `${request.path} sends ${parameter}`).not.toContain(
          parameter,
        );
    }
  });

  it("grants nothing outside the organizations' keys and the users' key", () => {
    for (const rule of rules)
      expect(rule.path).toMatch(
        /^transit\/(?:(keys|encrypt|decrypt|rewrap)\/coffer-org-\*|(keys|encrypt|decrypt)\/coffer-users)$/,
      );
    const users = rules.find((r) => r.path === "transit/keys/coffer-users");
    expect(users?.capabilities).not.toContain("delete");
  });
});

describe("deploy/vault-init.sh and docker-compose.yml", () => {
  it("enable the transit mount the adapter uses, write that policy and give the app a token with it", () => {
    expect(initScript).toMatch(/vault secrets enable -path=transit transit/);
    expect(initScript).toMatch(/vault policy write coffer "\$POLICY_FILE"/);
    expect(initScript).toMatch(/vault token create[^\n]*-policy=coffer/);
    expect(compose).toMatch(/VAULT_TOKEN_FILE: \/vault-token\/token/);
    expect(compose).toMatch(/\.\/deploy\/coffer-policy\.hcl:\/deploy\/coffer-policy\.hcl/);
  });
});
