#!/bin/bash
# demo.sh BIN - the lifecycle so far, on generated data in a throwaway home.
# Nothing outside a temporary directory is touched; it is removed at the end.
set -euo pipefail
bin=$(cd "${1:-bin}" && pwd)
export PATH="$bin:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/spif-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export SPIF_HOME="$work/home" SPIF_CONF="$work/spif.conf" TMPDIR="$work"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }

echo "spif demo: a throwaway catalog in $SPIF_HOME"
step "spif-gen --rows 1000 --encoding cp932 --gaiji -o 給与支払報告書.csv   # synthetic, valid check digits"
spif-gen --rows 1000 --persons 980 --encoding cp932 --gaiji -o "$work/給与支払報告書.csv"
cd "$work"
run spif ingest --purpose "個人住民税の賦課（給与支払報告書）" --source "eLTAX" \
	--received 2026-02-02 -o records.ndjson 給与支払報告書.csv
step "head -c 400 records.ndjson"
head -c 400 records.ndjson; echo " ..."
run spif ingest --purpose "個人住民税の賦課（給与支払報告書）" --to csv --output-encoding cp932 \
	-o back.csv 給与支払報告書.csv
run cmp 給与支払報告書.csv back.csv
echo "(byte-identical CP932 round trip, 髙 﨑 ㈱ and 外字 included)"
run spif catalog ls
run spif catalog show F000001
run spif catalog log
run spif catalog verify
step "spif-gen --rows 20 --invalid-row 12 | spif ingest --purpose demo -   # a wrong check digit"
if spif-gen --rows 20 --invalid-row 12 2>/dev/null | spif ingest --purpose demo - > /dev/null; then
	echo "demo: the bad file was accepted" >&2
	exit 1
fi
echo "(refused: nothing registered, no number in the message)"
run spif catalog ls
echo
echo "spif demo: done"
