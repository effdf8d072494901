#!/usr/bin/env bash
# Builds the Crossplane tools the conformance checks use, at the versions in versions.env, into
# ${XDG_CACHE_HOME:-$HOME/.cache}/function-sco/tools/<name>-<version>/ (outside the clone, keyed
# by version, so a warm run builds nothing). The core binary and the CLI are both called
# `crossplane`; they live in different directories. Also builds celready (cel/: provider-kubernetes'
# readiness-query evaluation with cel-go) and crdrules (crdrules/: a CRD's CEL rules on an update,
# with the API server's validator), each keyed by a hash of its sources. Prints, as shell
# assignments, where they are:
#   eval "$(bash tests/crossplane/tools.sh)"   # sets CROSSPLANE_CORE, CROSSPLANE_CLI, CEL_READY, CRD_RULES
# Needs Go (>= 1.26) and the Go module proxy. Progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/function-sco/tools"
log() { echo "tools.sh: $*" >&2; }

command -v go >/dev/null || { log "error: go is not on PATH"; exit 1; }

core_dir="$cache/crossplane-core-$CROSSPLANE_CORE_VERSION"
cli_dir="$cache/crossplane-cli-$CROSSPLANE_CLI_VERSION"

# The wrapper module must pin the same core version as versions.env.
for module in github.com/crossplane/crossplane/v2 github.com/crossplane/crossplane/apis/v2; do
    if ! grep -Eq "^[[:space:]]*$module $CROSSPLANE_CORE_VERSION( |$)" "$here/core/go.mod"; then
        log "error: $here/core/go.mod does not require $module $CROSSPLANE_CORE_VERSION (versions.env)"
        exit 1
    fi
done

build() { # name dir binary command...
    local name=$1 dir=$2 binary=$3
    shift 3
    if [[ -x "$dir/$binary" ]]; then
        log "$name: cached at $dir/$binary"
        return
    fi
    log "$name: building into $dir"
    local started=$SECONDS tmp
    tmp="$(mktemp -d "$cache/.build-XXXXXX")"
    "$@" "$tmp"
    mv "$tmp/$binary" "$tmp/$binary.new"
    mkdir -p "$dir"
    mv "$tmp/$binary.new" "$dir/$binary"
    rmdir "$tmp"
    log "$name: built in $((SECONDS - started))s"
}

build_core() { # out
    (cd "$here/core" && GOFLAGS=-mod=readonly go build -trimpath -o "$1/crossplane" \
        github.com/crossplane/crossplane/v2/cmd/crossplane)
}

build_cli() { # out
    # Not `go install ...@version`: that also asks the proxy for the module's version list (to
    # report deprecation), which it refuses. Building the downloaded module itself uses exactly
    # its own go.mod and go.sum, as go install would.
    local dir
    dir="$(go mod download -json "github.com/crossplane/cli/v2@$CROSSPLANE_CLI_VERSION" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [[ -n "$dir" && -f "$dir/go.mod" ]] || { log "error: cannot download the CLI module"; return 1; }
    (cd "$dir" && GOFLAGS=-mod=readonly go build -trimpath -o "$1/crossplane" ./cmd/crossplane)
}

build_cel() { # out
    (cd "$here/cel" && GOFLAGS=-mod=readonly go build -trimpath -o "$1/celready" .)
}

build_crdrules() { # out
    (cd "$here/crdrules" && GOFLAGS=-mod=readonly go build -trimpath -o "$1/crdrules" .)
}

key_of() { # dir: a hash of a Go module's sources
    cat "$1/go.mod" "$1/go.sum" "$1/main.go" | sha256sum | cut -c1-16
}
cel_key="$(key_of "$here/cel")"
cel_dir="$cache/celready-$cel_key"
rules_key="$(key_of "$here/crdrules")"
rules_dir="$cache/crdrules-$rules_key"

mkdir -p "$cache"
build "crossplane core $CROSSPLANE_CORE_VERSION" "$core_dir" crossplane build_core
build "crossplane CLI $CROSSPLANE_CLI_VERSION" "$cli_dir" crossplane build_cli
build "celready $cel_key" "$cel_dir" celready build_cel
build "crdrules $rules_key" "$rules_dir" crdrules build_crdrules

echo "CROSSPLANE_CORE=$core_dir/crossplane"
echo "CROSSPLANE_CLI=$cli_dir/crossplane"
echo "CEL_READY=$cel_dir/celready"
echo "CRD_RULES=$rules_dir/crdrules"
