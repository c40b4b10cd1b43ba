#!/bin/sh
# One-shot configuration of the (dev-mode) Vault for Coffer; run by the vault-init service
# with the vault CLI from the hashicorp/vault image. Safe to run again:
#   1. enables the transit secrets engine at "transit" (unless it is already there),
#   2. writes the policy "coffer" from coffer-policy.hcl,
#   3. creates a periodic, orphan token with that policy, revokes the one it replaces, and
#      writes it to $COFFER_TOKEN_FILE, which the app reads through VAULT_TOKEN_FILE.
# The dev server keeps everything in memory: after Vault restarts, run this again
# (`docker compose up -d vault-init`) and restart coffer.
set -eu

: "${VAULT_ADDR:?VAULT_ADDR must point at the Vault server}"
: "${VAULT_TOKEN:?VAULT_TOKEN must be a token allowed to configure Vault (the dev root token)}"
POLICY_FILE="${COFFER_POLICY_FILE:-/deploy/coffer-policy.hcl}"
TOKEN_FILE="${COFFER_TOKEN_FILE:-/vault-token/token}"
# The node user of the coffer image (node:20-bookworm-slim) is 1000:1000.
TOKEN_OWNER="${COFFER_TOKEN_OWNER:-1000:1000}"
# A periodic token never reaches a maximum TTL; it lives as long as it is renewed
# (auth/token/renew-self, allowed by Vault's default policy) at least once per period.
TOKEN_PERIOD="${COFFER_TOKEN_PERIOD:-768h}"

log() {
  echo "vault-init: $*"
}

if vault secrets list -format=json | grep -q '"transit/"'; then
  log "transit engine already enabled at transit/"
else
  vault secrets enable -path=transit transit
  log "enabled the transit engine at transit/"
fi

vault policy write coffer "$POLICY_FILE"
log "wrote policy coffer"

if [ -s "$TOKEN_FILE" ]; then
  # After a Vault restart the old token no longer exists; that is fine.
  if vault token revoke "$(cat "$TOKEN_FILE")" >/dev/null 2>&1; then
    log "revoked the previous coffer token"
  fi
fi

token="$(vault token create -orphan -policy=coffer -period="$TOKEN_PERIOD" \
  -display-name=coffer -field=token)"

# Fail here, not in the app, if the policy does not grant what the adapter needs.
granted="$(vault token capabilities "$token" transit/keys/coffer-org-selfcheck)"
denied="$(vault token capabilities "$token" transit/keys/not-coffer)"
# The adapter creates, reads, configures (rotate, min_decryption_version, deletion_allowed)
# and deletes keys (crypto-shredding an organization).
for capability in create read update delete; do
  case " $(echo "$granted" | tr -d '[],') " in
    *" $capability "*) ;;
    *)
      log "policy check failed: transit/keys/coffer-org-* grants '$granted', lacks $capability" >&2
      exit 1
      ;;
  esac
done
if [ "$denied" != "deny" ]; then
  log "policy check failed: transit/keys/not-coffer grants '$denied'" >&2
  exit 1
fi

umask 077
mkdir -p "$(dirname "$TOKEN_FILE")"
tmp="$TOKEN_FILE.tmp.$$"
printf '%s' "$token" >"$tmp"
chown "$TOKEN_OWNER" "$tmp"
chmod 0400 "$tmp"
mv -f "$tmp" "$TOKEN_FILE"
log "wrote a periodic ($TOKEN_PERIOD) token with policy coffer to $TOKEN_FILE"
