#!/usr/bin/env bash
# Unpacks Debian 12's own Node 18 for one architecture into a root folder:
# /usr/bin/node is there a small executable over libnode.so.108, as Debian
# and Ubuntu ship it (where the Node-API and V8 symbols live), with its
# libraries and the builtins Debian's node loads from /usr/share/nodejs.
#
#   debian-node.sh ARCH OUT     ARCH: amd64 or arm64; OUT: the root to make
#
# Needs apt (and, for a foreign ARCH, `dpkg --add-architecture`, which it
# does). Idempotent: a finished root has OUT/.done.
set -euo pipefail
arch=$1 out=$2
[ -f "$out/.done" ] && exit 0
if [ "$arch" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
  echo "debian-node: adding the $arch architecture to apt (dpkg --add-architecture $arch; apt-get update)"
  dpkg --add-architecture "$arch"
  apt-get update -qq
fi
version() { apt-cache show "$1" 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -1; }
v=$(version "libnode108:$arch")
if [ -z "$v" ]; then
  apt-get update -qq
  v=$(version "libnode108:$arch")
fi
[ -n "$v" ] || { echo "debian-node: apt knows no libnode108:$arch (is this Debian 12?)" >&2; exit 1; }
debs=$(mktemp -d) && chmod 755 "$debs"
trap 'rm -rf "$debs"' EXIT
echo "debian-node: downloading Debian's nodejs $v for $arch and its libraries (about 25 MB)"
(cd "$debs" && apt-get download -q \
  "nodejs:$arch=$v" "libnode108:$arch=$v" "libbrotli1:$arch" "libc-ares2:$arch" "libc6:$arch" \
  "libicu72:$arch" "libnghttp2-14:$arch" "libssl3:$arch" "libstdc++6:$arch" "libuv1:$arch" "zlib1g:$arch" \
  "libgcc-s1:$arch" "gcc-12-base:$arch" node-acorn node-cjs-module-lexer node-undici node-xtend node-busboy \
  ca-certificates >/dev/null)
rm -rf "$out" && mkdir -p "$out"
mkdir -p "$out/var/lib/dpkg"
for f in "$debs"/*.deb; do
  dpkg-deb -x "$f" "$out"
  # What dpkg would record: the package database `check --root` reads.
  { dpkg-deb -f "$f" Package; echo "Status: install ok installed"; dpkg-deb -f "$f" Architecture Version; echo; } |
    sed '1s/^/Package: /' >> "$out/var/lib/dpkg/status"
done
mkdir -p "$out/dev" "$out/tmp" "$out/etc" "$out/data"
chmod 1777 "$out/tmp"
# Debian 12 is /usr-merged: the links dpkg-deb does not make.
for d in bin lib sbin; do [ -e "$out/$d" ] || ln -s "usr/$d" "$out/$d"; done
[ "$arch" = amd64 ] && { [ -e "$out/lib64" ] || ln -s usr/lib64 "$out/lib64"; }
# The CA bundle update-ca-certificates would make: Debian's node reads it at
# every start, and warns when it is missing.
mkdir -p "$out/etc/ssl/certs"
cat "$out"/usr/share/ca-certificates/*/*.crt > "$out/etc/ssl/certs/ca-certificates.crt"
echo "$v" > "$out/.version"
touch "$out/.done"
echo "debian-node: $out holds Debian's node $v for $arch"
