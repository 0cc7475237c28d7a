#!/usr/bin/env bash
# Installs (idempotently, cached machine-wide) every real part the tests use:
# FerretDB, PostgreSQL, etcd, kube-apiserver, kube-controller-manager, kubectl, helm, nginx.
# Usage: scripts/install-infra.sh [ferretdb|postgresql|etcd|k8s|helm|grpcurl|nginx|chromium|nats|rabbitmq]...
# (default: all but the optional benchmark peers nats and rabbitmq)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/versions.sh"

# FerretDB panics at start unless build/version/version.txt holds its version, and
# that generated file is not part of the published module; so we build from a copy
# of the module with the file written (what `bin/task gen-version` does upstream).
prepare_ferretdb() {
  local work="$1" dir
  dir="$(go mod download -json "github.com/FerretDB/FerretDB@v$FERRETDB_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
  [[ -d "$dir" ]] || fail "ferretdb: could not download github.com/FerretDB/FerretDB@v$FERRETDB_VERSION"
  cp -r "$dir" "$work/ferretdb-src" && chmod -R u+w "$work/ferretdb-src"
  echo "v$FERRETDB_VERSION" > "$work/ferretdb-src/build/version/version.txt"
  # Our patches (scripts/ferretdb/*.patch, docs/adr/0003): each one says why in its hunk.
  local patch
  command -v patch >/dev/null || apt_install patch
  for patch in "$REPO_ROOT"/scripts/ferretdb/*.patch; do
    info "applying $(basename "$patch")"
    patch -s -p1 -d "$work/ferretdb-src" < "$patch" || fail "ferretdb: $(basename "$patch") does not apply to v$FERRETDB_VERSION"
  done
  printf '\nreplace github.com/FerretDB/FerretDB => ./ferretdb-src\n' >> "$work/go.mod"
}

install_ferretdb() {
  # CGO off keeps the binary static (pure-Go PostgreSQL driver and sqlite).
  GO_BUILD_PREPARE=prepare_ferretdb go_build_tool ferretdb "$FERRETDB_VERSION-$FERRETDB_PATCHES" github.com/FerretDB/FerretDB "v$FERRETDB_VERSION" \
    github.com/FerretDB/FerretDB/cmd/ferretdb
}

install_etcd() {
  # etcd's own go.mod uses relative replaces, so `go install ...@v` is refused; the
  # wrapper module pins the sibling modules to the same release instead.
  local v="v$ETCD_VERSION" extra bin="$TCE_CACHE/etcd-$ETCD_VERSION/bin/etcd"
  if [[ -x "$bin" ]]; then link_bin etcd "$bin"; info "etcd $ETCD_VERSION: cached in $(dirname "$bin")"; return 0; fi
  extra="replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $v
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $v
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $v
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $v
)"
  go_build_tool etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 "$v" go.etcd.io/etcd/server/v3 "" "$extra"
  # The root package builds a binary named v3; expose it as etcd.
  mv -f "$TCE_CACHE/etcd-$ETCD_VERSION/bin/v3" "$bin"
  rm -f "$REPO_BIN/v3"
  link_bin etcd "$bin"
}

install_k8s() {
  local v="$K8S_VERSION" staging extra="replace (" m
  # Every staging module that kubernetes' go.mod replaces with ./staging/... is
  # published as k8s.io/X v0.MINOR.PATCH.
  staging="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
    cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
    cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
    kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
    mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller"
  for m in $staging; do extra+=$'\n\t'"k8s.io/$m => k8s.io/$m v0.${v#*.}"; done
  extra+=$'\n)'
  local ld="-X k8s.io/component-base/version.gitVersion=v$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${v#1.}"
  ld="${ld%.*}"  # gitMinor is the minor number only
  ld+=" -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=v$v"
  go_build_tool kubernetes "$v" k8s.io/kubernetes "v$v" \
    "k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl" \
    "$ld" "$extra"
}

install_helm() {
  go_build_tool helm "$HELM_VERSION" helm.sh/helm/v3 "v$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
    "-X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION"
}

install_grpcurl() {
  # A stock gRPC client: proves reflection and health work for tools outside Node.
  go_install_tool grpcurl "$GRPCURL_VERSION" "github.com/fullstorydev/grpcurl/cmd/grpcurl@v$GRPCURL_VERSION" \
    "-X main.version=v$GRPCURL_VERSION"
}

install_nats() {
  # Optional: the EasyMQ benchmark's peer (make bench-mq), not part of the default set.
  local bin="$TCE_CACHE/nats-server-$NATS_SERVER_VERSION/bin/nats-server"
  if [[ -x "$bin" ]]; then link_bin nats-server "$bin"; info "nats-server $NATS_SERVER_VERSION: cached in $(dirname "$bin")"; return 0; fi
  go_install_tool nats-server "$NATS_SERVER_VERSION" "github.com/nats-io/nats-server/v2@v$NATS_SERVER_VERSION"
  # The module's main package is its root, so go install names the binary v2; expose it as nats-server.
  mv -f "$TCE_CACHE/nats-server-$NATS_SERVER_VERSION/bin/v2" "$bin"
  rm -f "$REPO_BIN/v2"
  link_bin nats-server "$bin"
}

install_centrifugo() {
  # Optional: the gateway benchmark's peer (make bench-gateway), not part of the default set.
  local bin="$TCE_CACHE/centrifugo-$CENTRIFUGO_VERSION/bin/centrifugo"
  if [[ -x "$bin" ]]; then link_bin centrifugo "$bin"; info "centrifugo $CENTRIFUGO_VERSION: cached in $(dirname "$bin")"; return 0; fi
  go_install_tool centrifugo "$CENTRIFUGO_VERSION" "github.com/centrifugal/centrifugo/v6@v$CENTRIFUGO_VERSION" \
    "-X github.com/centrifugal/centrifugo/v6/internal/build.Version=$CENTRIFUGO_VERSION"
  # go install names a module-root binary after the path without its /vN suffix (centrifugo);
  # older toolchains used v6: expose it as centrifugo either way.
  if [[ -x "$TCE_CACHE/centrifugo-$CENTRIFUGO_VERSION/bin/v6" ]]; then mv -f "$TCE_CACHE/centrifugo-$CENTRIFUGO_VERSION/bin/v6" "$bin"; fi
  rm -f "$REPO_BIN/v6"
  link_bin centrifugo "$bin"
}

apt_install() {
  step "Installing Debian packages: $*"
  if [[ $(id -u) -ne 0 ]]; then fail "need root to apt-get install $* (or install them yourself)"; fi
  (apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1) || {
    info "apt-get install failed; refreshing package lists"
    apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null || fail "apt-get install $* failed"
  }
}

install_nginx() {
  # Debian's binary, not whatever `nginx` is on PATH (.cache/bin is on PATH under make).
  if [[ ! -x /usr/sbin/nginx ]]; then apt_install nginx; fi
  link_bin nginx /usr/sbin/nginx
  info "nginx: $("$REPO_BIN/nginx" -v 2>&1)"
}

install_postgresql() {
  # The store's backend (FerretDB on PostgreSQL, test/support/store.ts): Debian's
  # server binaries. Each store runs its own cluster; the system service is not used.
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [[ -z "$dir" || ! -x "$dir/postgres" ]]; then
    apt_install postgresql
    dir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  fi
  for b in postgres initdb psql; do
    [[ -x "$dir/$b" ]] || fail "postgresql: $dir/$b is missing (apt-get install postgresql)"
    link_bin "$b" "$dir/$b"
  done
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    fail "postgresql: running as root needs the 'postgres' user to run the server (apt-get install postgresql makes it)"
  fi
  info "postgresql: $("$REPO_BIN/postgres" --version)"
}

install_rabbitmq() {
  # Optional: the EasyMQ benchmark's other peer. Debian's package; the benchmark starts
  # its own broker on loopback with private dirs, so the system service is not used.
  if [[ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; then apt_install rabbitmq-server; fi
  if command -v systemctl >/dev/null && systemctl is-active --quiet rabbitmq-server 2>/dev/null; then
    info "rabbitmq-server: the system service is running; the benchmark uses its own instance anyway"
  fi
  info "rabbitmq-server: $(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo unknown)"
}

install_chromium() {
  if [[ ! -x /usr/bin/chromium ]]; then apt_install chromium; fi
  info "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo unknown)"
}

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(nginx postgresql ferretdb etcd helm k8s grpcurl)
for t in "${targets[@]}"; do
  case "$t" in
    ferretdb|postgresql|etcd|k8s|helm|nginx|chromium|grpcurl|nats|rabbitmq|centrifugo) "install_$t" ;;
    *) fail "unknown component '$t' (expected ferretdb, postgresql, etcd, k8s, helm, grpcurl, nginx, chromium, nats, rabbitmq, centrifugo)" ;;
  esac
done
