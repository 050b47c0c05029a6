#!/usr/bin/env bash
# Lets this amd64 machine run arm64 binaries: qemu-user-static registered in
# binfmt_misc with the F flag (the interpreter is opened at registration, so
# it works in a chroot and as PID 1 of a container too). Installs what is
# missing with apt. Needs root.
set -euo pipefail
[ "$(uname -m)" = aarch64 ] && exit 0
need=()
[ -x /usr/bin/qemu-aarch64-static ] || need+=(qemu-user-static)
command -v update-binfmts >/dev/null || need+=(binfmt-support)
if [ ${#need[@]} -gt 0 ]; then
  echo "emulation: installing ${need[*]} (apt, about a minute)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -f /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
if [ ! -f /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  if update-binfmts --display qemu-aarch64 >/dev/null 2>&1; then
    update-binfmts --enable qemu-aarch64
  elif [ -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
    # QEMU 10 (bookworm-backports) registers through systemd's binfmt.d,
    # which its install runs only where systemd is PID 1: register the line.
    grep -m1 '^:qemu-aarch64:' /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register
  fi
fi
grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || { echo "emulation: qemu-aarch64 is not enabled in binfmt_misc" >&2; exit 1; }
