#!/usr/bin/env bash
# Makes the secret files deploy/compose.yaml reads, in this directory. A file
# that exists already is kept: run it again at any time to add missing ones.
# Needs openssl. See README.md beside it.
set -euo pipefail
cd "$(dirname "$0")"

# The directory keeps other local users out. The files themselves must be
# readable inside the containers, whose users (mongodb 999, the server 65532)
# do not own them: compose bind-mounts them as they are.
chmod 700 .

ensure() {
  local name=$1
  shift
  if [ -s "$name" ]; then
    echo "kept $name"
  else
    "$@" > "$name.new"
    mv "$name.new" "$name"
    echo "made $name"
  fi
  chmod 644 "$name"
}

# Hex: no character that needs escaping in a connection string.
ensure mongo_root_password openssl rand -hex 32
ensure mongo_sct_password openssl rand -hex 32

sct_password=$(< mongo_sct_password)
ensure sct_mongodb_uri printf '%s\n' \
  "mongodb://sct:${sct_password}@mongo1:27017,mongo2:27017,mongo3:27017/?replicaSet=rs0&authSource=admin&w=majority&journal=true"
if ! grep -qF ":${sct_password}@" sct_mongodb_uri; then
  echo "warning: sct_mongodb_uri does not hold the password in mongo_sct_password;" >&2
  echo "         delete sct_mongodb_uri and run this again to make it anew" >&2
fi

# One signing key, "id=secret" with 48 random bytes in base64 (at least 32 are
# required). To rotate, see "Keys and their rotation" in the top README.
ensure sct_jwt_keys printf 'k%s=%s\n' "$(date -u +%Y%m%d)" "$(openssl rand -base64 48)"

ensure sct_bootstrap_admin_password openssl rand -base64 24

echo "done; the first administrator's password is in $(pwd)/sct_bootstrap_admin_password"
