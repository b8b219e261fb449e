#!/usr/bin/env bash
# Sets everything up on a fresh machine and builds the example in variants/ for real with buildah,
# pushing to a registry started on loopback; prints the tags, the references and what the registry holds.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh >/dev/null
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npm run --silent build

work=$(mktemp -d "${TMPDIR:-/tmp}/image-builder-quickstart.XXXXXX")
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat >"$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done

cat >"$work/config.yaml" <<YAML
registry: 127.0.0.1:$port/example
YAML

sha=$(git rev-parse HEAD 2>/dev/null || echo 0000000000000000000000000000000000000000)
echo "== tags (--parse-tags-only)"
PULL_BASE_SHA=$sha bin/image-builder --parse-tags-only --config "$work/config.yaml" --tag latest
echo "== build (buildah, registry 127.0.0.1:$port)"
PULL_BASE_SHA=$sha bin/image-builder --config "$work/config.yaml" --name hello --context variants \
  --backend buildah --tag latest --log-dir "$work/logs" --tags-output-file "$work/tags.json"
echo "== the registry now holds"
curl -fsS "http://127.0.0.1:$port/v2/example/hello/tags/list"; echo
echo "== labels of example/hello:latest-main, read back from the registry (build args arrived)"
node -e '
  const base = process.argv[1];
  const accept = { Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" };
  fetch(`${base}/manifests/latest-main`, { headers: accept })
    .then((r) => r.json())
    .then((m) => fetch(`${base}/blobs/${m.config.digest}`))
    .then((r) => r.json())
    .then((c) => console.log(JSON.stringify(c.config.Labels, null, 2)));
' "http://127.0.0.1:$port/v2/example/hello"
echo "logs: $work/logs"
