#!/usr/bin/env bash
# `make images`: builds the two images from the root Dockerfile with docker,
# tagged with package.json's version (= the chart's appVersion, which the
# operator and the chart use as the default tag):
#   ghcr.io/tce-dev/tce-platform:<version>   (--target platform)
#   ghcr.io/tce-dev/tce-operator:<version>   (--target operator)
# IMAGE_TAG overrides the tag; PUSH=1 pushes after building.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

PLATFORM_IMAGE=ghcr.io/tce-dev/tce-platform
OPERATOR_IMAGE=ghcr.io/tce-dev/tce-operator
version="$(node -p "require('./package.json').version")"
tag="${IMAGE_TAG:-$version}"

command -v docker >/dev/null \
  || fail "no container engine: the 'docker' command is not installed, so images cannot be built here (the Dockerfile is checked by test/unit/images instead)"
docker info >/dev/null 2>&1 \
  || fail "no container engine: 'docker info' got no answer from a Docker engine; start one (or point DOCKER_HOST at one) and run 'make images' again"

for target in platform operator; do
  image="$PLATFORM_IMAGE"
  [[ "$target" == operator ]] && image="$OPERATOR_IMAGE"
  step "docker build --target $target → $image:$tag"
  docker build --target "$target" --tag "$image:$tag" --label "org.opencontainers.image.version=$version" . \
    || fail "building $image:$tag failed (see above)"
  if [[ "${PUSH:-0}" == 1 ]]; then
    step "docker push $image:$tag"
    docker push "$image:$tag" || fail "pushing $image:$tag failed"
  fi
done
info "built $PLATFORM_IMAGE:$tag and $OPERATOR_IMAGE:$tag"
