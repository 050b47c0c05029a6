#!/usr/bin/env bash
# Says, within a second, what a make target needs that this machine lacks,
# with the one apt-get line that brings it, and fails; silent when all is
# there. Go and node with npm are the README's two requirements.
#
#   prereqs.sh demo|test|e2e
set -uo pipefail
declare -A pkg=(
  [g++]=g++ [make]=make [python3]=python3 [musl-gcc]=musl-tools [file]=file [script]=bsdutils
  [unshare]=util-linux [prlimit]=util-linux [losetup]=mount [mkfs.ext4]=e2fsprogs [ip]=iproute2 [aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu [podman]=podman [runc]=runc [chromium]=chromium
)
case "${1:-}" in
  demo) tools=(g++ make python3) ;;
  test) tools=(g++ make python3 musl-gcc aarch64-linux-gnu-gcc file script unshare prlimit losetup mkfs.ext4 ip) ;;
  e2e) tools=(g++ make python3 podman runc chromium) ;;
  *) echo "usage: $0 demo|test|e2e" >&2; exit 2 ;;
esac
missing=() packages=()
for t in go node npm; do
  command -v "$t" >/dev/null || missing+=("$t")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "make $1 needs Go 1.26 and node with npm, and this machine lacks: ${missing[*]}" >&2
  exit 1
fi
for t in "${tools[@]}"; do
  if ! command -v "$t" >/dev/null; then
    missing+=("$t")
    case " ${packages[*]} " in *" ${pkg[$t]} "*) ;; *) packages+=("${pkg[$t]}") ;; esac
  fi
done
# Libraries node-hid's prebuilt bindings link (the preflight's tests load them).
if [ "$1" = test ]; then
  cache=$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null)
  for lib in libusb-1.0.so.0:libusb-1.0-0 libudev.so.1:libudev1; do
    case "$cache" in *"${lib%%:*} "*) ;; *) missing+=("${lib%%:*}") packages+=("${lib#*:}") ;; esac
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "make $1 needs ${missing[*]}, which this machine lacks. On Debian or Ubuntu:" >&2
  echo "  apt-get install -y ${packages[*]}" >&2
  exit 1
fi
