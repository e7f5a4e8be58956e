# Sourced by start.sh and test.sh: system packages the project runs on, installed from Debian's
# archive when missing (fresh machines), then Node 24 + pnpm and the workspace's packages.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

need_apt=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ "${STARLING_NEED_CHROMIUM:-0}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then need_apt+=(chromium); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "starling: missing system packages: ${need_apt[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
  echo "starling: installing ${need_apt[*]} from Debian…" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Debian's postinst starts a cluster and a redis service we do not use; stop them quietly.
  (command -v service >/dev/null && { service postgresql stop; service redis-server stop; }) >/dev/null 2>&1 || true
fi

cd "$STARLING_ROOT"
pnpm install --frozen-lockfile --reporter=silent
