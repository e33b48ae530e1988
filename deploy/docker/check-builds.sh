#!/usr/bin/env bash
# Runs the build step of every services/*/Dockerfile here, outside Docker: there is no Docker engine
# on this machine, so this is how a broken path, project name or compile error in an image build is
# caught. For each Dockerfile it takes the `dotnet publish ...` command of the build stage as written,
# runs it from the repository root (the images' build context, copied to the same paths) with its
# output redirected to a temporary directory, and checks that the DLL named in ENTRYPOINT was published.
# What this does not cover: the base images, apt-get, COPY itself (tests/OrderStream.DeployTests
# checks that the COPY sources exist and hold every project the service references).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# A Dockerfile's instructions one per line: continuation lines joined, comments dropped.
instructions() {
  sed -e '/^[[:space:]]*#/d' "$1" | awk '{ if (sub(/\\[[:space:]]*$/, "")) { buf = buf $0 " " } else { print buf $0; buf = "" } }'
}

failed=0
started=$SECONDS
for dockerfile in services/*/Dockerfile; do
  service=$(basename "$(dirname "$dockerfile")")
  # From `dotnet publish` to the end of the RUN command (or to the next && / ;).
  publish=$(instructions "$dockerfile" | grep -E '^RUN[[:space:]].*dotnet publish' \
              | sed -E 's/^.*(dotnet publish)/\1/; s/[[:space:]]*(&&|;).*$//') || true
  if [[ -z "$publish" || $(wc -l <<<"$publish") -ne 1 ]]; then
    echo "FAIL $service: expected exactly one 'RUN ... dotnet publish' in $dockerfile" >&2; failed=1; continue
  fi
  read -ra args <<<"$publish"
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
    echo "FAIL $service: the publish command has no -o/--output, so the image's layout is unknown: $publish" >&2; failed=1; continue
  fi
  dll=$(instructions "$dockerfile" | grep -E '^ENTRYPOINT' | tail -n 1 | grep -oE '[A-Za-z0-9_.-]+\.dll' || true)
  if [[ -z "$dll" ]]; then
    echo "FAIL $service: no .dll in the ENTRYPOINT of $dockerfile" >&2; failed=1; continue
  fi

  t=$SECONDS
  echo "---- $service: ${cmd[*]}"
  if ! "${cmd[@]}" -nologo -v quiet; then
    echo "FAIL $service: dotnet publish failed" >&2; failed=1; continue
  fi
  if [[ ! -f "$out/$dll" || ! -f "$out/${dll%.dll}.runtimeconfig.json" ]]; then
    echo "FAIL $service: ENTRYPOINT runs $dll, but the publish output has no $dll (and its runtimeconfig.json)" >&2; failed=1; continue
  fi
  echo "ok   $service: $dll published ($((SECONDS - t)) s)"
done

if [[ $failed -ne 0 ]]; then echo "check-builds: FAILED" >&2; exit 1; fi
echo "check-builds: every Dockerfile's publish step works ($((SECONDS - started)) s)"
