#!/usr/bin/env bash
# SoftHSM2 for the pkcs11 key tests (service/src/keys/*.test.ts). The tests create their own
# SoftHSM2 config and tokens in a temp dir (SOFTHSM2_CONF + softhsm2-util --init-token), so
# this script only makes sure the package is installed. Idempotent.
set -euo pipefail

if command -v softhsm2-util >/dev/null 2>&1 && ls /usr/lib/softhsm/libsofthsm2.so >/dev/null 2>&1; then
  echo "keys: softhsm2 $(softhsm2-util --version) already installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != "0" ]; then
  echo "keys: SoftHSM2 is missing; install it as root: apt-get install -y softhsm2" >&2
  exit 1
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends softhsm2 >/dev/null
echo "keys: installed softhsm2 $(softhsm2-util --version)"
