#!/usr/bin/env bash
# Runs the build step of deploy/docker/Dockerfile here, outside Docker, once for each service: there is
# no Docker engine on this machine, so this is how a broken path, project name or compile error in an
# image build is caught. Each directory under services/ with a project is a service (SERVICE = the
# directory, PROJECT = its project's name, the build arguments docker-compose.yml passes; DeployTests
# check that compose agrees); the mock vendor, deploy/OrderStream.MockVendor, is built too (SOURCE=deploy).
# For each, it takes the build stage's `dotnet publish ...` command as written, fills in the arguments,
# runs it from the repository root (the image's build context, copied to the same paths) with its output redirected to a temporary directory, and checks that the
# assembly the image starts (ENV APP_DLL) was published.
# What this does not cover: the base images, COPY itself (DeployTests checks that the COPY sources
# exist and hold every project the service references).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
DOCKERFILE=deploy/docker/Dockerfile
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# The Dockerfile's instructions one per line: continuation lines joined, comments dropped.
instructions() {
  sed -e '/^[[:space:]]*#/d' "$DOCKERFILE" | awk '{ if (sub(/\\[[:space:]]*$/, "")) { buf = buf $0 " " } else { print buf $0; buf = "" } }'
}

# From `dotnet publish` to the end of the RUN command (or to the next && / ;).
publish=$(instructions | grep -E '^RUN[[:space:]].*dotnet publish' | sed -E 's/^.*(dotnet publish)/\1/; s/[[:space:]]*(&&|;).*$//') || true
if [[ -z "$publish" || $(wc -l <<<"$publish") -ne 1 ]]; then
  echo "FAIL: expected exactly one 'RUN ... dotnet publish' in $DOCKERFILE" >&2; exit 1
fi
app_dll=$(instructions | grep -E '^ENV[[:space:]]+APP_DLL=' | sed -E 's/^ENV[[:space:]]+APP_DLL=//') || true
[[ -n "$app_dll" ]] || { echo "FAIL: no 'ENV APP_DLL=...' in $DOCKERFILE" >&2; exit 1; }

failed=0
started=$SECONDS
for dir in services/*/ deploy/OrderStream.MockVendor/; do
  service=$(basename "$dir") source=$(dirname "$dir")
  projects=("$dir"*.csproj)
  [[ -e "${projects[0]}" ]] || continue
  if [[ ${#projects[@]} -ne 1 ]]; then echo "FAIL $service: more than one project in $dir" >&2; failed=1; continue; fi
  project=$(basename "${projects[0]}" .csproj)
  fill() { local s=${1//\$\{SERVICE\}/$service}; s=${s//\$\{SOURCE\}/$source}; echo "${s//\$\{PROJECT\}/$project}"; }

  read -ra args <<<"$(fill "$publish")"
  # Replace the image's output directory (-o/--output DIR) with ours; keep every other argument.
  cmd=() out="$OUT/$service" redirected=0
  for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
      -o|--output) cmd+=("${args[i]}" "$out"); i=$((i + 1)); redirected=1 ;;
      -o=*|--output=*) cmd+=("${args[i]%%=*}=$out"); redirected=1 ;;
      *) cmd+=("${args[i]}") ;;
    esac
  done
  if [[ $redirected -eq 0 ]]; then
    echo "FAIL: the publish command has no -o/--output, so the image's layout is unknown: $publish" >&2; exit 1
  fi
  dll=$(fill "$app_dll")

  t=$SECONDS
  echo "---- $service: ${cmd[*]}"
  if ! "${cmd[@]}" -nologo -v quiet; then
    echo "FAIL $service: dotnet publish failed" >&2; failed=1; continue
  fi
  if [[ ! -f "$out/$dll" || ! -f "$out/${dll%.dll}.runtimeconfig.json" ]]; then
    echo "FAIL $service: the image starts $dll, but the publish output has no $dll (and its runtimeconfig.json)" >&2; failed=1; continue
  fi
  echo "ok   $service: $dll published ($((SECONDS - t)) s)"
done

if [[ $failed -ne 0 ]]; then echo "check-builds: FAILED" >&2; exit 1; fi
echo "check-builds: the Dockerfile's publish step works for every service ($((SECONDS - started)) s)"
