# Sourced by ./course (the repository's and the student edition's): makes sure `make` is
# there, installing it with apt-get as root, or says how to install it.
if ! command -v make >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "keras-course: installing make with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq make >/dev/null
  else
    echo "keras-course: please install make (Debian/Ubuntu: sudo apt-get install make)" >&2
    exit 1
  fi
fi
