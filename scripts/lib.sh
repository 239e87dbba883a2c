# Shared set-up for scripts/demo and scripts/test: make sure a Go toolchain
# new enough for go.mod is on PATH, on a fresh Debian machine too.
# Heavy downloads are cached outside the repository (EXPOSURE_CACHE).

EXPOSURE_CACHE="${EXPOSURE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/exposure}"
GO_WANT="$(awk '/^go [0-9]/ {print $2; exit}' "$(dirname "$0")/../go.mod")"

log() { printf '[exposure] %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		log "need root for: $*"; return 1
	fi
}

apt_install() {
	local missing=()
	for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing Debian packages: ${missing[*]}"
	# Daemons such as firewalld must not start in the host's network
	# namespace when installed: tests run them in namespaces of their own.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
		as_root chmod +x /usr/sbin/policy-rc.d
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# go_ok: the go on PATH is at least the version go.mod names.
go_ok() {
	command -v go >/dev/null || return 1
	local have
	have="$(go env GOVERSION 2>/dev/null | sed 's/^go//')" || return 1
	[ "$(printf '%s\n%s\n' "$GO_WANT" "$have" | sort -V | head -1)" = "$GO_WANT" ]
}

# ensure_go puts a suitable Go on PATH. Without one, it installs Debian's
# golang-go and uses it only to fetch the toolchain module
# golang.org/toolchain through the Go module proxy into the cache.
ensure_go() {
	[ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
	local cached="$EXPOSURE_CACHE/go/golang.org/toolchain@v0.0.1-go$GO_WANT.linux-$(dpkg --print-architecture)/bin"
	[ -x "$cached/go" ] && export PATH="$cached:$PATH"
	go_ok && return 0
	apt_install golang-go ca-certificates git
	log "fetching Go $GO_WANT toolchain through the module proxy"
	(cd /tmp && GOFLAGS=-mod=mod GOMODCACHE="$EXPOSURE_CACHE/go" GOTOOLCHAIN=local \
		/usr/bin/go mod download "golang.org/toolchain@v0.0.1-go$GO_WANT.linux-$(dpkg --print-architecture)")
	export PATH="$cached:$PATH"
	go_ok || { log "could not get Go $GO_WANT"; return 1; }
}
