#!/usr/bin/env bash
# Builds the krew release archive for this machine's platform and writes its
# uri and sha256 into plugins/warpdrive.yaml (the entry whose os/arch match).
#
#   plugins/package.sh [--base-url URL]
#
# The archive is dist/kubectl-warpdrive-v<version>-<os>-<arch>.tar.gz and holds
# kubectl-warpdrive, kubectl_complete-warpdrive, LICENSE and README.md. It is
# packed reproducibly (sorted names, fixed mtime/owner, gzip -n), so the sha256
# only changes when the binary does. Upload it to URL/v<version>/ and commit the
# manifest. Try it locally first:
#   kubectl krew install --manifest=plugins/warpdrive.yaml --archive=dist/<archive>
set -euo pipefail
cd "$(dirname "$0")/.."

manifest=plugins/warpdrive.yaml
# Default: GitHub release assets of spec.homepage (the one place the project's
# home is written down; see README, section install).
base_url="$(sed -n 's/^  homepage: //p' "$manifest")/releases/download"
while [ $# -gt 0 ]; do
  case "$1" in
    --base-url) base_url="${2:?--base-url needs a URL}"; shift 2 ;;
    *) echo "package.sh: unknown argument $1 (usage: plugins/package.sh [--base-url URL])" >&2; exit 2 ;;
  esac
done

version="v$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "package.sh: unsupported OS $(uname -s)" >&2; exit 2 ;; esac
case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) echo "package.sh: unsupported arch $(uname -m)" >&2; exit 2 ;; esac
grep -q "^  version: $version\$" "$manifest" || { echo "package.sh: $manifest spec.version is not $version (Cargo.toml): fix it first" >&2; exit 2; }

cargo build --release --locked --bin kubectl-warpdrive
stage="$(mktemp -d)"; trap 'rm -rf "$stage"' EXIT
install -m 0755 target/release/kubectl-warpdrive "$stage/kubectl-warpdrive"
install -m 0755 completions/kubectl_complete-warpdrive "$stage/kubectl_complete-warpdrive"
install -m 0644 LICENSE README.md "$stage/"
mkdir -p dist
archive="kubectl-warpdrive-$version-$os-$arch.tar.gz"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$stage" -cf - \
    kubectl-warpdrive kubectl_complete-warpdrive LICENSE README.md | gzip -n -9 > "dist/$archive"
sha="$(sha256sum "dist/$archive" | cut -d' ' -f1)"

# Rewrite uri/sha256 of the platform entry whose selector is this os/arch.
python3 - "$manifest" "$os" "$arch" "$base_url/$version/$archive" "$sha" <<'PY'
import re, sys
path, os_, arch, uri, sha = sys.argv[1:]
text = open(path).read()
entries = re.split(r'(?m)^(?=  - selector:)', text)
hit = 0
for i, e in enumerate(entries):
    if re.search(rf'(?m)^\s+os: {os_}$', e) and re.search(rf'(?m)^\s+arch: {arch}$', e):
        e = re.sub(r'(?m)^(\s+uri: ).*$', lambda m: m.group(1) + uri, e)
        e = re.sub(r'(?m)^(\s+sha256: ).*$', lambda m: m.group(1) + '"' + sha + '"', e)
        entries[i] = e
        hit += 1
if hit != 1:
    sys.exit(f"package.sh: {path} has {hit} platform entries for {os_}/{arch}; expected 1")
open(path, "w").write("".join(entries))
PY
echo "dist/$archive $sha"
