# Policy "coffer": what Coffer's Vault transit adapter needs, and nothing more.
#
# Every organization's data key is a transit key named "coffer-org-<id>" on the mount
# "transit". The adapter creates keys (POST transit/keys/:name), reads their metadata
# (GET transit/keys/:name), rotates them (POST transit/keys/:name/rotate), configures them
# (POST transit/keys/:name/config: min_decryption_version, deletion_allowed), and encrypts,
# decrypts and rewraps with them.
#
# Vault only accepts "*" as the LAST character of a policy path, where it is a prefix match;
# a "*" inside a path (say "transit/keys/coffer-org-*/rotate") is taken literally and would
# never match a real key. "+" matches one whole segment and cannot be combined with a
# prefix such as "coffer-org-". So the keys stanza below is a prefix match on
# "transit/keys/coffer-org-", which covers the keys themselves and their /rotate and /config
# endpoints -- and, unavoidably, the other transit/keys/:name/* endpoints. Those are closed
# off by their parameters instead: trim needs min_available_version, import and
# import_version need ciphertext, set-certificate needs certificate_chain, and export or
# plaintext backup can only be enabled by setting exportable or allow_plaintext_backup.
#
# Crypto-shredding: deleting an organization deletes its key, so that none of its
# ciphertexts can ever be decrypted again. Vault refuses to delete a key until its config
# says deletion_allowed=true (POST transit/keys/:name/config, covered by "update" above and
# deliberately not denied), and the DELETE itself needs the "delete" capability, granted
# here on coffer-org-* keys only. The adapter sends exactly those two requests.
path "transit/keys/coffer-org-*" {
  capabilities = ["create", "read", "update", "delete"]
  denied_parameters = {
    "exportable"             = []
    "allow_plaintext_backup" = []
    "min_available_version"  = []
    "ciphertext"             = []
    "certificate_chain"      = []
  }
}

# These endpoints have no sub-paths, so the prefix match grants exactly "update" on them.
path "transit/encrypt/coffer-org-*" {
  capabilities = ["update"]
}

path "transit/decrypt/coffer-org-*" {
  capabilities = ["update"]
}

path "transit/rewrap/coffer-org-*" {
  capabilities = ["update"]
}

# Users' TOTP seeds (two-factor sign-in) live under one key of their own, "coffer-users":
# created on first use and read, and used to encrypt and decrypt; never rotated through
# this policy's grants beyond "update", never deleted. Exact paths, no prefix match.
path "transit/keys/coffer-users" {
  capabilities = ["create", "read", "update"]
  denied_parameters = {
    "exportable"             = []
    "allow_plaintext_backup" = []
    "min_available_version"  = []
    "ciphertext"             = []
    "certificate_chain"      = []
  }
}

path "transit/encrypt/coffer-users" {
  capabilities = ["update"]
}

path "transit/decrypt/coffer-users" {
  capabilities = ["update"]
}
