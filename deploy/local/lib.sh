# Shared by run.sh and test.sh: installs the Debian packages the stack needs, if missing
# (ensure_packages --browser adds what only the tests need).
ensure_packages() {
  local need=()
  [ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  command -v jq >/dev/null 2>&1 || need+=(jq)  # deploy/local/ordersctl
  # The browser tests (tests/OrderStream.UiTests) drive Debian's Chromium: Playwright downloads no browser here.
  if [ "${1:-}" = --browser ]; then [ -x /usr/bin/chromium ] || need+=(chromium); fi
  if [ ${#need[@]} -gt 0 ]; then
    echo "Installing ${need[*]} ..."
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  command -v dotnet >/dev/null 2>&1 || { echo "The .NET 10 SDK (dotnet) is required." >&2; exit 1; }
}
