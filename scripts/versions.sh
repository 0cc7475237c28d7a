# Pinned versions of the test infrastructure. Bumping one rebuilds only it.
K8S_VERSION=1.34.4          # kube-apiserver, kube-controller-manager, kubectl
ETCD_VERSION=3.6.4          # the version k8s.io/kubernetes v1.34.4 requires
FERRETDB_VERSION=1.24.2
FERRETDB_PATCHES=tce3       # bump when scripts/ferretdb/*.patch change: it keys the cached build
HELM_VERSION=3.19.0
GRPCURL_VERSION=1.9.3
NATS_SERVER_VERSION=2.15.2  # optional: only the mq benchmark's peer (install-infra.sh nats)
CENTRIFUGO_VERSION=6.9.1     # optional: only the gateway benchmark's peer (install-infra.sh centrifugo)
