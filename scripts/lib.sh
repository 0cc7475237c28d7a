# Shared helpers for the install/start scripts: one place for cache paths and
# progress output so every long step says what it does and which step failed.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Heavy builds are cached machine-wide, keyed by version, so a fresh clone on the
# same machine (CI) links them instead of rebuilding for 20 minutes.
TCE_CACHE="${TCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tce-platform}"
REPO_CACHE="$REPO_ROOT/.cache"
REPO_BIN="$REPO_CACHE/bin"
mkdir -p "$TCE_CACHE" "$REPO_BIN"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
fail() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

# link_bin NAME TARGET: expose a cached binary as .cache/bin/NAME.
link_bin() { ln -sfn "$2" "$REPO_BIN/$1"; }

# go_build_tool NAME VERSION MAINPKG_MODULE MODULE_VERSION "PKG..." [LDFLAGS] [GO_MOD_EXTRA]
# Builds Go main packages inside a throwaway wrapper module so replace
# directives (which `go install pkg@v` refuses) can be supplied by us.
go_build_tool() {
  local name="$1" version="$2" module="$3" modver="$4" pkgs="$5" ldflags="${6:-}" extra="${7:-}"
  local out="$TCE_CACHE/$name-$version/bin"
  local first; first="$(basename "${pkgs%% *}")"
  if [[ -x "$out/$first" ]]; then
    for p in $pkgs; do link_bin "$(basename "$p")" "$out/$(basename "$p")"; done
    info "$name $version: cached in $out"
    return 0
  fi
  command -v go >/dev/null || fail "$name: the 'go' command is missing; install Go >= 1.24 to build test infrastructure"
  local work="$TCE_CACHE/build/$name-$version"
  rm -rf "$work" && mkdir -p "$work"
  step "Building $name $version from the Go module proxy (first time only; this takes a while)"
  (
    cd "$work"
    printf 'module tce.dev/build/%s\n\ngo 1.24.0\n%s\n' "$name" "$extra" > go.mod
    # Optional hook (a shell function name) that may patch sources before building.
    if [[ -n "${GO_BUILD_PREPARE:-}" ]]; then "$GO_BUILD_PREPARE" "$work"; fi
    info "resolving $module@$modver"
    GOFLAGS=-mod=mod go get "$module@$modver" >build.log 2>&1 || { tail -30 build.log >&2; fail "$name: 'go get $module@$modver' failed (log: $work/build.log)"; }
    for p in $pkgs; do
      info "compiling $p"
      GOFLAGS=-mod=mod CGO_ENABLED="${CGO_ENABLED:-0}" go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp/$(basename "$p")" "$p" >>build.log 2>&1 \
        || { tail -30 build.log >&2; fail "$name: 'go build $p' failed (log: $work/build.log)"; }
    done
  )
  rm -rf "$out" && mkdir -p "$(dirname "$out")" && mv "$out.tmp" "$out"
  for p in $pkgs; do link_bin "$(basename "$p")" "$out/$(basename "$p")"; done
  info "$name $version: built into $out"
}

# go_install_tool NAME VERSION PKG@VERSION [LDFLAGS]: plain `go install` (for modules
# without replace directives, whose own go.mod resolves cleanly).
go_install_tool() {
  local name="$1" version="$2" spec="$3" ldflags="${4:-}"
  local out="$TCE_CACHE/$name-$version/bin" bin; bin="$(basename "${spec%@*}")"
  if [[ -x "$out/$bin" ]]; then link_bin "$bin" "$out/$bin"; info "$name $version: cached in $out"; return 0; fi
  command -v go >/dev/null || fail "$name: the 'go' command is missing; install Go >= 1.24 to build test infrastructure"
  step "Building $name $version with go install (first time only)"
  mkdir -p "$TCE_CACHE/build"
  GOBIN="$out.tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w $ldflags" "$spec" >"$TCE_CACHE/build/$name-$version.log" 2>&1 \
    || { tail -30 "$TCE_CACHE/build/$name-$version.log" >&2; fail "$name: 'go install $spec' failed"; }
  rm -rf "$out" && mv "$out.tmp" "$out"
  link_bin "$bin" "$out/$bin"
  info "$name $version: built into $out"
}
