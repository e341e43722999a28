#!/bin/sh
# deps.sh PKG... - make sure these Debian packages are installed.
# As root, missing ones are installed (after apt-get update); otherwise this
# stops with the exact apt-get line to run.  Nothing is done when all are there.
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "spif: installing build/test dependencies:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends $missing >&2 && exit 0
	echo "spif: apt-get failed; run: apt-get update && apt-get install$missing" >&2
	exit 1
fi
echo "spif: missing packages; run as root: apt-get update && apt-get install$missing" >&2
exit 1
