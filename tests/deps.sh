#!/bin/sh
# deps.sh PKG... - make sure these Debian packages are installed.
# As root, missing ones are installed (after apt-get update); otherwise this
# stops with the exact apt-get line to run.  Nothing is done when all are there.
# ja_JP.UTF-8, for the Japanese messages' tests (tests/bats/ja.bats): made
# when locales is asked for, as root, and missing.
ja_locale() {
	case " $* " in *" locales "*) ;; *) return 0 ;; esac
	locale -a 2>/dev/null | grep -qi '^ja_JP\.utf-\?8$' && return 0
	[ "$(id -u)" -eq 0 ] || { echo "spif: no ja_JP.UTF-8 locale; run as root: localedef -i ja_JP -f UTF-8 ja_JP.UTF-8" >&2; return 0; }
	echo "spif: generating the ja_JP.UTF-8 locale" >&2
	localedef -i ja_JP -f UTF-8 ja_JP.UTF-8 >&2 || echo "spif: localedef ja_JP.UTF-8 failed" >&2
}
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && { ja_locale "$@"; exit 0; }
if [ "$(id -u)" -eq 0 ]; then
	echo "spif: installing build/test dependencies:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends $missing >&2 && { ja_locale "$@"; exit 0; }
	echo "spif: apt-get failed; run: apt-get update && apt-get install$missing" >&2
	exit 1
fi
echo "spif: missing packages; run as root: apt-get update && apt-get install$missing" >&2
exit 1
