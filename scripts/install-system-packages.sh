#!/usr/bin/env bash
# Installs the system programs the course needs, when they are missing:
#   graphviz          the `dot` program behind keras.utils.plot_model
#   bubblewrap        the `bwrap` sandbox the batch grader isolates each submission in (Linux;
#                     not in the student edition, which has no batch grader)
#   python3-venv      on Debian/Ubuntu Pythons that ship without venv/ensurepip
#   dataset-fashion-mnist  Fashion-MNIST's original files, where apt-get is (Debian/Ubuntu);
#                     elsewhere `python -m data_loaders install` downloads them instead
# and with --tests (what `make test` passes) also:
#   chromium          the browser the JupyterLab end-to-end test drives (tests/lessons/test_browser.py)
#   fonts-wqy-microhei  a font for Chinese, for that test's screenshots of a translated lesson
# Uses apt-get as root, or through sudo when available; otherwise says what to install.
set -euo pipefail
PYTHON=${PYTHON:-python3}
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
optional=()  # installed when possible; without them only the batch grader's isolation is off
if [ "$(uname -s)" = Linux ] && [ -d batch_grader ] && ! command -v bwrap >/dev/null 2>&1; then
  optional+=(bubblewrap)
fi
if [ "${1:-}" = "--tests" ] && [ -z "${KERAS_COURSE_CHROMIUM:-}" ] \
  && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  missing+=(chromium)
fi
if [ "${1:-}" = "--tests" ] && [ -z "$(fc-list :lang=zh 2>/dev/null || true)" ]; then
  missing+=(fonts-wqy-microhei)
fi
if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
  missing+=("python$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv")
fi
data=()  # dataset packages: a failure only means `python -m data_loaders install` downloads
cache="${KERAS_COURSE_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/keras-course}"
if command -v apt-get >/dev/null 2>&1 && [ ! -d /usr/share/datasets/fashion-mnist ] \
  && [ ! -d "$cache/fashion_mnist" ]; then
  data+=(dataset-fashion-mnist)
fi
[ ${#missing[@]} -eq 0 ] && [ ${#optional[@]} -eq 0 ] && [ ${#data[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
elif [ ${#missing[@]} -eq 0 ]; then
  if [ ${#optional[@]} -gt 0 ]; then
    echo "keras-course: bubblewrap is not installed, so the batch grader will not isolate" >&2
    echo "  submissions (Debian/Ubuntu: sudo apt-get install bubblewrap)" >&2
  fi
  exit 0
else
  echo "keras-course: please install these system packages: ${missing[*]}" >&2
  echo "  (Debian/Ubuntu: sudo apt-get install ${missing[*]}; macOS: brew install graphviz)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  [ ${#missing[@]} -eq 0 ] && exit 0
  echo "keras-course: no apt-get here; please install: ${missing[*]}" >&2
  exit 1
fi
missing+=("${optional[@]}")
apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
if [ ${#missing[@]} -gt 0 ]; then
  echo "keras-course: installing ${missing[*]} with apt-get"
  "${apt[@]}" update -qq
  "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ${#data[@]} -gt 0 ]; then
  # Never fails the setup: without the package, `python -m data_loaders install` downloads.
  echo "keras-course: installing ${data[*]} with apt-get"
  { [ ${#missing[@]} -gt 0 ] || "${apt[@]}" update -qq; } \
    && apt-cache show "${data[@]}" >/dev/null 2>&1 \
    && "${apt[@]}" install -y -qq --no-install-recommends "${data[@]}" >/dev/null \
    || echo "keras-course: could not install ${data[*]}; python -m data_loaders install will download it" >&2
fi
