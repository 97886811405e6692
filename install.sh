#!/bin/sh
# Bulwark installer.
#
#   curl -fsSL https://BASE/install.sh | sh
#   curl -fsSL https://BASE/install.sh | sh -s -- --version 0.1.0
#   sh install.sh --from /media/usb/bulwark/        # air-gapped: a folder with the binary + SHA256SUMS
#   sh install.sh --from ./bulwark-0.1.0-linux-x64-glibc   # air-gapped: one file, SHA256SUMS beside it
#   sh install.sh --uninstall
#
# Options (or environment):
#   --version V      (BULWARK_VERSION)      install version V; default: the release's LATEST
#   --base-url URL   (BULWARK_BASE_URL)     where releases live: URL/V/<binary>, URL/V/SHA256SUMS, URL/LATEST
#   --dir DIR        (BULWARK_INSTALL_DIR)  install into DIR; default /usr/local/bin as root, else ~/.local/bin
#   --from PATH      (BULWARK_FROM)         install from a local file or folder, no network
#   --uninstall                             remove bulwark from the install directory
#
# The checksum of the binary is verified against SHA256SUMS before anything is
# installed; a mismatch or a missing entry refuses the install.
#
# The whole script is one function called on the last line, so a download cut
# short never runs half a script.

bulwark_install() {
  set -eu

  version="${BULWARK_VERSION:-}"
  base_url="${BULWARK_BASE_URL:-https://releases.bulwark.invalid/bulwark}"
  dir="${BULWARK_INSTALL_DIR:-}"
  from="${BULWARK_FROM:-}"
  action=install

  say() { printf 'bulwark-install: %s\n' "$*" >&2; }
  die() { say "error: $*"; exit 1; }

  while [ $# -gt 0 ]; do
    case "$1" in
      --version) [ $# -ge 2 ] || die "--version needs a value"; version="$2"; shift 2 ;;
      --base-url) [ $# -ge 2 ] || die "--base-url needs a value"; base_url="$2"; shift 2 ;;
      --dir) [ $# -ge 2 ] || die "--dir needs a value"; dir="$2"; shift 2 ;;
      --from) [ $# -ge 2 ] || die "--from needs a value"; from="$2"; shift 2 ;;
      --uninstall) action=uninstall; shift ;;
      -h|--help) sed -n '2,22p' "$0" 2>/dev/null || true; exit 0 ;;
      *) die "unknown option: $1 (try --help)" ;;
    esac
  done

  if [ -z "$dir" ]; then
    if [ "$(id -u)" = 0 ]; then
      dir=/usr/local/bin
    else
      [ -n "${HOME:-}" ] || die "not root and HOME is unset: pass --dir"
      dir="$HOME/.local/bin"
      say "not root: installing to $dir"
    fi
  fi

  if [ "$action" = uninstall ]; then
    if [ -e "$dir/bulwark" ]; then rm -f "$dir/bulwark"; say "removed $dir/bulwark"; else say "nothing to remove in $dir"; fi
    return 0
  fi

  # Architecture and libc decide which build runs here.
  machine="$(uname -m)"
  case "$machine" in
    x86_64|amd64) arch=x64 ;;
    aarch64|arm64) arch=arm64 ;;
    *) die "unsupported architecture: $machine (Bulwark ships x86_64 and aarch64 builds)" ;;
  esac
  libc=glibc
  if ls /lib/ld-musl-*.so.1 >/dev/null 2>&1 || { command -v ldd >/dev/null 2>&1 && ldd --version 2>&1 | grep -qi musl; }; then
    libc=musl
  fi
  variant="$arch"
  if [ "$arch" = x64 ] && [ "$libc" = glibc ] && [ -r /proc/cpuinfo ] && ! grep -qw avx2 /proc/cpuinfo; then
    variant=x64-baseline
    say "CPU without AVX2: using the baseline build"
  fi

  sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
    elif command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 "$1" | sed 's/.*= *//'
    else die "no sha256sum, shasum or openssl to verify the download"
    fi
  }

  fetch() { # URL DEST
    if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 2 -o "$2" "$1" || die "download failed: $1"
    elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1" || die "download failed: $1"
    else die "neither curl nor wget is installed"
    fi
  }

  work="$(mktemp -d "${TMPDIR:-/tmp}/bulwark-install.XXXXXX")"
  trap 'rm -rf "$work"' EXIT INT TERM

  if [ -n "$from" ]; then
    # Air-gapped: a folder holding the builds + SHA256SUMS, or one binary with SHA256SUMS beside it.
    if [ -d "$from" ]; then
      sums="$from/SHA256SUMS"
      if [ -z "$version" ] && [ -r "$from/LATEST" ]; then version="$(tr -d ' \n' < "$from/LATEST")"; fi
      [ -n "$version" ] || die "--from $from: no LATEST file there; pass --version"
      name="bulwark-$version-linux-$variant-$libc"
      src="$from/$name"
    else
      src="$from"
      name="$(basename "$from")"
      sums="$(dirname "$from")/SHA256SUMS"
    fi
    [ -r "$src" ] || die "$src not found"
    [ -r "$sums" ] || die "$sums not found: refusing to install an unverified binary"
    cp "$src" "$work/bulwark"
    cp "$sums" "$work/SHA256SUMS"
  else
    if [ -z "$version" ]; then
      fetch "$base_url/LATEST" "$work/LATEST"
      version="$(tr -d ' \n' < "$work/LATEST")"
    fi
    name="bulwark-$version-linux-$variant-$libc"
    fetch "$base_url/$version/SHA256SUMS" "$work/SHA256SUMS"
    fetch "$base_url/$version/$name" "$work/bulwark"
  fi

  want="$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1; exit }' "$work/SHA256SUMS")"
  [ -n "$want" ] || die "$name is not listed in SHA256SUMS: refusing to install"
  got="$(sha256_of "$work/bulwark")"
  [ "$want" = "$got" ] || die "checksum mismatch for $name (expected $want, got $got): refusing to install"

  mkdir -p "$dir"
  # Copy next to the target, then rename: a running bulwark is never overwritten in place.
  cp "$work/bulwark" "$dir/.bulwark.new.$$"
  chmod 0755 "$dir/.bulwark.new.$$"
  mv -f "$dir/.bulwark.new.$$" "$dir/bulwark"
  say "installed $name to $dir/bulwark (sha256 verified)"
  case ":${PATH:-}:" in *":$dir:"*) ;; *) say "note: $dir is not on your PATH" ;; esac
}

bulwark_install "$@"
