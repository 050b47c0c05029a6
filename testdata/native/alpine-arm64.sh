#!/usr/bin/env bash
# Lays out the add-on's image on a Raspberry Pi (Alpine, aarch64, musl) as
# far as the preflight reads it, from what this machine can reach (no
# Alpine package can be): Debian 12's musl for arm64 (the real loader and
# libc, /lib/ld-musl-aarch64.so.1, under Alpine's name for it too), a
# stand-in node (a real arm64 musl executable over the root's libc, built
# with Debian's aarch64-linux-musl-gcc, that exports the Node-API and libuv
# of the node24 fixture, answers --version as apk's database names it, and
# with --dlopen FILE loads an addon and calls its registration, as node's
# process.dlopen does),
# libstdc++ and libgcc_s stand-ins and one of jemalloc where Home
# Assistant's base images have it (real arm64 musl libraries with their
# sonames, nothing else), /etc/alpine-release, apk's database naming
# nodejs, and in /addons two Node-API addons built for glibc.
#
#   alpine-arm64.sh OUT NODE24     OUT: the root to make; NODE24: a Node 24 to take the exports from
#
# Needs apt (arm64 added as a foreign architecture, as debian-node.sh does)
# and gcc-aarch64-linux-gnu. Idempotent: a finished root has OUT/.done,
# which holds its layout's number.
set -euo pipefail
out=$1 node24=$2
layout=5 # built again where a root is of an earlier layout
[ "$(cat "$out/.done" 2>/dev/null)" = "$layout" ] && exit 0
command -v aarch64-linux-gnu-gcc >/dev/null || { echo "alpine-arm64: needs aarch64-linux-gnu-gcc: apt-get install -y gcc-aarch64-linux-gnu" >&2; exit 1; }
version=$("$node24" --version) version=${version#v}
build=$(mktemp -d) && chmod 755 "$build"
trap 'rm -rf "$build"' EXIT
echo "alpine-arm64: Debian's musl for arm64 (1 MB), a stand-in node $version for it"
# apt warns that it downloads as root into a folder its user cannot reach.
(cd "$build" && apt-get download -q musl:arm64 musl-dev:arm64 2>&1 >/dev/null | grep -v unsandboxed >&2 || true)
ls "$build"/musl_*_arm64.deb "$build"/musl-dev_*_arm64.deb >/dev/null ||
  { echo "alpine-arm64: apt-get download musl:arm64 musl-dev:arm64 failed (is arm64 a foreign architecture of apt?)" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out"
dpkg-deb -x "$build"/musl_*_arm64.deb "$out"
dpkg-deb -x "$build"/musl-dev_*_arm64.deb "$build/dev"
# Alpine's layout: the loader is libc.musl-<arch>.so.1 to what links it,
# and no /etc/ld-musl-aarch64.path (Debian's names its own folders only, so
# musl would not search /usr/lib, where Alpine's libraries are).
ln -s ld-musl-aarch64.so.1 "$out/lib/libc.musl-aarch64.so.1"
rm -rf "$out/etc/ld-musl-aarch64.path" "$out/etc/ld-musl-aarch64.d" "$out/usr/bin/ld-musl-config" "$out/usr/share"
# Debian's musl-gcc specs, pointed at the unpacked headers and objects.
sed "s#/usr/#$build/dev/usr/#g" "$build/dev/usr/lib/aarch64-linux-musl/musl-gcc.specs" > "$build/musl.specs"
# Linked against the root's libc.so, as Alpine's programs are against its
# libc, not libc.a: a statically linked libc cannot dlopen.
cc() { aarch64-linux-gnu-gcc -specs "$build/musl.specs" -L"$out/lib/aarch64-linux-musl" "$@"; }
{
  echo '#include <dlfcn.h>'
  echo '#include <stdio.h>'
  echo '#include <string.h>'
  echo 'const char *abi_marker = "node_register_module_v137";'
  nm -D --defined-only "$node24" | awk '$3 ~ /^(napi_|node_api_|uv_)/ {print "void " $3 "(void) {}"}'
  # --dlopen FILE: what node's process.dlopen does: dlopen with RTLD_LAZY
  # (musl then leaves a function it cannot find unbound, until called),
  # then the module's registration, called.
  echo 'static int load(const char *f) { void *h = dlopen(f, RTLD_LAZY); if (!h) { printf("%s\n", dlerror()); return 1; }'
  echo '  void *(*reg)(void *, void *) = (void *(*)(void *, void *))dlsym(h, "napi_register_module_v1"); if (reg) reg(0, 0);'
  echo '  puts("LOADED"); return 0; }'
  echo "int main(int argc, char **argv) { if (argc > 1 && !strcmp(argv[1], \"--version\")) { puts(\"v$version\"); return 0; }"
  echo '  if (argc > 2 && !strcmp(argv[1], "--dlopen")) return load(argv[2]); return 1; }'
} > "$build/node.c"
mkdir -p "$out/usr/bin" "$out/usr/lib" "$out/etc" "$out/lib/apk/db" "$out/dev" "$out/tmp"
cc -O1 -rdynamic -o "$out/usr/bin/node" "$build/node.c"
echo 'int stub;' > "$build/stub.c"
for so in libstdc++.so.6 libgcc_s.so.1; do
  cc -shared -fPIC -Wl,-soname,$so -o "$out/usr/lib/$so" "$build/stub.c"
done
# Where Home Assistant's base images put jemalloc, for LD_PRELOAD: a musl
# arm64 library of that name (its soname; nothing of jemalloc).
mkdir -p "$out/usr/local/lib"
cc -shared -fPIC -Wl,-soname,libjemalloc.so.2 -o "$out/usr/local/lib/libjemalloc.so.2" "$build/stub.c"
# Two Node-API addons built for glibc (Debian's cross compiler), as a
# Debian build stage would make them: one that calls only what musl's libc
# also has, one that calls gnu_get_libc_version, which only glibc has.
mkdir -p "$out/addons"
for addon in glibc-c glibc-only; do
  {
    echo '#include <stdio.h>'
    echo '#include <string.h>'
    [ "$addon" = glibc-only ] && echo '#include <gnu/libc-version.h>'
    echo 'typedef void *napi_env, *napi_value;'
    echo 'extern int napi_create_string_utf8(napi_env, const char *, size_t, napi_value *);'
    echo 'napi_value napi_register_module_v1(napi_env env, napi_value exports) {'
    echo '  char b[64]; napi_value s; snprintf(b, sizeof b, "%zu", strlen("addon"));'
    [ "$addon" = glibc-only ] && echo '  strncat(b, gnu_get_libc_version(), 8);'
    echo '  napi_create_string_utf8(env, b, strlen(b), &s); return exports; }'
  } > "$build/$addon.c"
  aarch64-linux-gnu-gcc -O2 -shared -fPIC -o "$out/addons/$addon.node" "$build/$addon.c"
done
echo 3.24.0 > "$out/etc/alpine-release"
printf 'C:Q1stand-in\nP:nodejs\nV:%s-r0\nA:aarch64\nT:JavaScript runtime built on V8 engine\n\n' "$version" > "$out/lib/apk/db/installed"
chmod 1777 "$out/tmp"
echo "$layout" > "$out/.done"
