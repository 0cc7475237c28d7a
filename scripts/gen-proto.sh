#!/usr/bin/env bash
# `make proto`: TCE IDL (proto/idl/*.idl) → proto3 (proto/gen/proto) → ts-proto
# TypeScript (proto/gen/ts) + the TCE call-mode layer (proto/gen/ts/*.tce.ts).
# Everything under proto/gen/ is a gitignored build product.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
shopt -s nullglob
idl=(proto/idl/*.idl)
if [[ ${#idl[@]} -eq 0 ]]; then info "no IDL files in proto/idl; nothing to generate"; exit 0; fi
out=proto/gen
rm -rf "$out.tmp" && mkdir -p "$out.tmp/proto" "$out.tmp/ts"
step "tce2proto: ${#idl[@]} IDL files → proto3"
node bin/tce2proto.js -I proto/idl -o "$out.tmp/proto" --model "$out.tmp/model.json" "${idl[@]}" \
  || fail "tce2proto reported errors in proto/idl (see above)"
printf 'version: v2\n' > "$out.tmp/proto/buf.yaml"
# grpc.health.v1 is served by every process; its descriptor joins ours for reflection.
mkdir -p "$out.tmp/proto/grpc/health/v1"
cp node_modules/grpc-health-check/proto/health/v1/health.proto "$out.tmp/proto/grpc/health/v1/health.proto"
# Hand-written gRPC services next to the IDL (services/<name>/proto, e.g. mq.MqStream, ADR 0002) join too.
for f in services/*/proto/*.proto; do cp "$f" "$out.tmp/proto/"; done
step "buf build + ts-proto → TypeScript"
node_modules/.bin/buf build "$out.tmp/proto" -o "$out.tmp/descriptors.binpb" \
  || fail "buf build rejected the generated .proto files"
node_modules/.bin/buf generate "$out.tmp/proto" --template proto/buf.gen.yaml -o "$out.tmp" \
  || fail "buf generate (ts-proto) failed"
step "TCE call-mode layer"
node_modules/.bin/tsx proto/src/emit-tce-ts-cli.ts "$out.tmp/model.json" "$out.tmp/ts" || fail "generating the TCE layer failed"
rm -rf "$out" && mv "$out.tmp" "$out"
info "generated into $out/"
