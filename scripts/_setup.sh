# shellcheck shell=bash
# Shared set-up sourced by scripts/serve and scripts/test (not run on its own).
#
#   source scripts/_setup.sh && retaguarda_setup
#
# Builds .venv from uv.lock (uv sync --frozen --extra dev) and the front-end vendor
# files from package-lock.json (scripts/build_assets.sh). Works on a fresh Debian
# machine that has only python3.11 + pip: uv and node/npm are installed when missing.
# Idempotent; with nothing changed a run takes well under a second.

RETAGUARDA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$RETAGUARDA_ROOT" || exit 1

# Never let uv download a Python build (only PyPI is reachable); use the machine's 3.11.
export UV_PYTHON="${UV_PYTHON:-3.11}"
export UV_PYTHON_DOWNLOADS="${UV_PYTHON_DOWNLOADS:-never}"
export DEBIAN_FRONTEND=noninteractive

UV_BOOTSTRAP_DIR="$RETAGUARDA_ROOT/var/tools/uv"

log() { printf '[setup] %s\n' "$*" >&2; }
warn() { printf '[setup] WARNING: %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, else through sudo when it exists.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo env DEBIAN_FRONTEND=noninteractive "$@"
  else
    warn "not root and no sudo: cannot run '$*'"
    return 1
  fi
}

_apt_updated=""
# apt_install [--no-install-recommends] PKG...
apt_install() {
  command -v apt-get >/dev/null 2>&1 || { warn "no apt-get here: install '$*' by hand"; return 1; }
  if [ -z "$_apt_updated" ]; then
    log "apt-get update"
    as_root apt-get update -qq || return 1
    _apt_updated=1
  fi
  mkdir -p "$RETAGUARDA_ROOT/var/log"
  local aptlog="$RETAGUARDA_ROOT/var/log/apt-install.log"
  log "apt-get install $* (log: ${aptlog#"$RETAGUARDA_ROOT"/})"
  if ! as_root apt-get install -y -q "$@" >"$aptlog" 2>&1; then
    tail -n 30 "$aptlog" >&2
    return 1
  fi
}

_python3() {
  if command -v python3.11 >/dev/null 2>&1 && python3.11 -c '' 2>/dev/null; then
    echo python3.11
  else
    echo python3
  fi
}

# Sets UV to a working uv binary, installing it into var/tools/uv when none is found.
ensure_uv() {
  local cand
  for cand in "${UV:-}" "$(command -v uv 2>/dev/null || true)" "$UV_BOOTSTRAP_DIR/bin/uv" "$HOME/.local/bin/uv"; do
    if [ -n "$cand" ] && [ -x "$cand" ] && "$cand" --version >/dev/null 2>&1; then
      UV="$cand"
      return 0
    fi
  done
  local py
  py="$(_python3)"
  if ! "$py" -m pip --version >/dev/null 2>&1; then
    apt_install --no-install-recommends python3-pip || die "$py has no pip and it could not be installed"
  fi
  log "installing uv into ${UV_BOOTSTRAP_DIR#"$RETAGUARDA_ROOT"/} (pip from PyPI)"
  # --target keeps it out of the system site-packages (no PEP 668 trouble, no PATH changes).
  "$py" -m pip install --quiet --disable-pip-version-check --no-warn-script-location --root-user-action=ignore \
    --upgrade --target "$UV_BOOTSTRAP_DIR" 'uv>=0.13.9' || die "could not install uv"
  UV="$UV_BOOTSTRAP_DIR/bin/uv"
  "$UV" --version >/dev/null || die "uv installed but does not run: $UV"
}

setup_python() {
  ensure_uv
  if ! "$UV" lock --check --offline --quiet >/dev/null 2>&1; then
    warn "uv.lock is out of date with pyproject.toml: run 'uv lock' and commit uv.lock" \
      "(installing what uv.lock says meanwhile)"
  fi
  "$UV" sync --frozen --extra dev || die "uv sync failed"
}

# Sets up node + npm from Debian when missing.
ensure_npm() {
  if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
    return 0
  fi
  apt_install --no-install-recommends nodejs npm || return 1
  command -v npm >/dev/null 2>&1
}

setup_assets() {
  if bash scripts/build_assets.sh --check; then
    return 0
  fi
  ensure_npm || die "npm is missing and could not be installed (apt-get install nodejs npm)"
  bash scripts/build_assets.sh || die "building the front-end assets failed"
}

# Compiles the translation catalogs (locales/*/LC_MESSAGES/messages.po → .mo, never committed)
# when a .po is newer than its .mo.
setup_catalogs() {
  local po stale=""
  for po in src/retaguarda/locales/*/LC_MESSAGES/messages.po; do
    [ -f "$po" ] || continue
    [ "$po" -nt "${po%.po}.mo" ] && stale=1
  done
  [ -z "$stale" ] && return 0
  log "compiling translation catalogs"
  bash scripts/i18n compile || die "compiling the translation catalogs failed"
}

retaguarda_setup() {
  mkdir -p var
  setup_python
  setup_assets
  setup_catalogs
}
