#!/usr/bin/env bash
# Installs the system programs the course needs, when they are missing:
#   graphviz          the `dot` program behind keras.utils.plot_model
#   python3-venv      on Debian/Ubuntu Pythons that ship without venv/ensurepip
# and with --tests (what `make test` passes) also:
#   chromium          the browser the JupyterLab end-to-end test drives (tests/lessons/test_browser.py)
# Uses apt-get as root, or through sudo when available; otherwise says what to install.
set -euo pipefail
PYTHON=${PYTHON:-python3}
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
if [ "${1:-}" = "--tests" ] && [ -z "${KERAS_COURSE_CHROMIUM:-}" ] \
  && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  missing+=(chromium)
fi
if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
  missing+=("python$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv")
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "keras-course: please install these system packages: ${missing[*]}" >&2
  echo "  (Debian/Ubuntu: sudo apt-get install ${missing[*]}; macOS: brew install graphviz)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "keras-course: no apt-get here; please install: ${missing[*]}" >&2
  exit 1
fi
echo "keras-course: installing ${missing[*]} with apt-get"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
