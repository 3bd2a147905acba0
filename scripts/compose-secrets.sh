#!/usr/bin/env bash
# Writes the secrets docker-compose.yml reads, as random values, into ./secrets (gitignored); keeps the ones
# that exist already. Prints where they are, never their values: `cat secrets/admin_password` to log in.
set -euo pipefail
cd "$(dirname "$0")/.."

# webhook_token   Alertmanager → remediator's webhook (WEBHOOK_TOKEN_FILE, credentials_file)
# admin_password  user admin of remediator's queue UI and /api, and of Grafana
# cache_password  requirepass of the demo Redis pair (cache-a, cache-b), read by remediator and the exporter
names=(webhook_token admin_password cache_password)

umask 077
mkdir -p secrets
chmod 700 secrets
for name in "${names[@]}"; do
  file="secrets/$name"
  if [ -s "$file" ]; then
    echo "compose-secrets: keeping $file"
  else
    # 32 hex characters: no quoting needed in a URL, a header or redis.conf.
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$file"
    echo "compose-secrets: wrote $file"
  fi
  # The files are bind-mounted into containers that run as their own users (node, nobody, grafana), so they
  # must be readable by others; the 0700 directory keeps them private on this machine.
  chmod 644 "$file"
done
