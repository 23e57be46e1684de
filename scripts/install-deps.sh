#!/usr/bin/env bash
# Installs what berth needs on a fresh Debian 12 machine (as root): the OCI runtimes, the
# busybox-static used for the test image, the npm packages (including the pinned Node.js 24),
# and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
# attr: setfattr for overlay opaque directories and layer xattrs; docker-registry and skopeo:
# the local registry and the independent image producer that the image tests use; gcc and
# libc6-dev: the static syscall probe the seccomp tests build.
for pkg in crun runc busybox-static attr docker-registry skopeo gcc libc6-dev; do
  # "install ok installed" only: a removed package whose config files remain also has a status.
  [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run build
