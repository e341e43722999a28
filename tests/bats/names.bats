#!/usr/bin/env bats
# Names spif keeps (labels, purposes, sources, paths, the logged command
# line) never hold an Individual Number, in whatever form it was typed: the
# masking is the detector's, failing closed, so every shape the detector
# finds in a file is masked in a name, and a path holding one is refused.
load helper

setup() {
	setup_home
	gen --rows 20 -o "$D/a.csv"
	valid_numbers_in "$D/a.csv" "$D/nums"
	mapfile -t N < "$D/nums"
	[ "${#N[@]}" -ge 12 ]
}

# The text with every separator spif knows removed, JSON escapes (\n, \t,
# \uXXXX) dropped and full-width digits made ASCII: a number split any way
# comes back whole, so grep -F finds it.
squash() {
	perl -CSD -pe 's/\\[nrt]//g; s/\\u[0-9a-fA-F]{4}//g; tr/\x{FF10}-\x{FF19}/0-9/;
		s/[\p{Zs}\p{Pd}\x{30FC}\x{FF70}\x{2043}\x{FE58}\x{FE63}\x{2212}._\/,\x{FF0C}\x{3001}\x{FF64}\x{FF0F}\x{2215}\x{2044}\x{30FB}\x{FF65}\x{FF0E}\x{FF3F}\x{00B7}\x{2024}\x{2027}\x{200B}-\x{200D}\x{2060}\x{FEFF}\x{00AD}\t\r\n]//g'
}

# No generated number in what the catalog shows and logs, however split.
no_number_in_catalog() {
	{ spif catalog ls --json; spif catalog log --json
	  for id in $(spif catalog ls --json | grep -o '"id":"F[0-9]*"' | cut -d'"' -f4); do
		spif catalog show "$id" --json
	  done; } > "$D/shown"
	[ -s "$D/shown" ]
	squash < "$D/shown" > "$D/squashed"
	run grep -c -F -f "$D/nums" "$D/squashed"
	[ "$output" = 0 ] || { echo "$output lines hold a generated number"; return 1; }
}

# The full-width form of the digits of $1.
fullwidth() {
	local fw=(０ １ ２ ３ ４ ５ ６ ７ ８ ９) s=$1 out="" i
	for ((i = 0; i < ${#s}; i++)); do out+=${fw[${s:i:1}]}; done
	printf '%s' "$out"
}

# The shapes of a number n that the masking used to miss, and others the
# detector finds; one per line, tab-free.
shapes() {
	local n=$1 a=${1:0:4} b=${1:4:4} c=${1:8:4}
	printf '%s\n' "0312 $a-$b-$c" "1234-5678 $a-$b-$c" "1600 $a-$b-$c" "${n:0:6}-${n:6:6}" \
		"${a}_${b}_${c}" "$a/$b/$c" "$a$b　$c" "$a"$'\xc2\xa0'"$b"$'\xc2\xa0'"$c" "$a"$'\xe2\x80\x89'"$b"$'\xe2\x80\x89'"$c" \
		"${n:0:3}-${n:3:3}-${n:6:3}-${n:9:3}" "${n:0:2} ${n:2:2} ${n:4:2} ${n:6:2} ${n:8:2} ${n:10:2}" \
		"$(echo "$n" | sed 's/./& /g; s/ $//')" "$a--$b--$c" "$a - $b - $c" "$a・$b・$c" "$a，$b，$c" \
		"$(fullwidth "$a")＿$(fullwidth "$b")＿$(fullwidth "$c")"
}

@test "names: --label and --purpose in every shape are stored masked" {
	local i=0 shape
	while IFS= read -r shape; do
		spif ingest --again --reason t --purpose "目的 $shape 分" --label "台帳 $shape" --print-id "$D/a.csv" > /dev/null 2>&1
		i=$((i + 1))
	done < <(shapes "${N[$i]}"; shapes "${N[1]}" | sed 's/^/x/')
	[ "$i" -ge 30 ]
	[ "$(spif catalog ls --json | grep -c '"id":"F')" -eq "$i" ]
	no_number_in_catalog
	# the digits go, the separators and the words stay
	run spif catalog show F000005 --json
	[[ "$output" == *'"label":"台帳 ****_****_****"'* ]]
	run spif catalog show F000001 --json
	[[ "$output" == *'"purpose":"目的 **** ****-****-**** 分"'* ]]
}

@test "names: a number with a line break in a label, and one in each argument, are masked" {
	local n=${N[2]} m=${N[3]}
	spif ingest --purpose x --label "$(printf '個人番号\n%s\n%s\n%s' "${n:0:4}" "${n:4:4}" "${n:8:4}")" \
		--source "${m:0:6}/${m:6:6}" --print-id "$D/a.csv" > /dev/null 2>&1
	no_number_in_catalog
	run spif catalog log --json
	[[ "$output" == *'"******/******"'* ]] # the --source argument, as logged
}

@test "names: a path with a number in a directory name is refused, asking for a rename" {
	local n=${N[4]} d
	for d in "d${n:0:4}_${n:4:4}_${n:8:4}" "${n:0:6}-${n:6:6}" "x${n:0:4}/${n:4:4}/${n:8:4}"; do
		mkdir -p "$D/$d"
		cp "$D/a.csv" "$D/$d/a.csv"
		run --separate-stderr spif ingest --again --reason t --purpose x "$D/$d/a.csv"
		[ "$status" -eq 65 ] || { echo "$d: status $status: $stderr"; return 1; }
		[[ "$stderr" == *"the file name holds what may be an Individual Number"*"rename"* ]]
		[[ "$stderr" != *"$n"* ]]
		one_line_stderr
	done
	[ ! -e "$SPIF_HOME/catalog.db" ]
}

@test "names: a full-width-digit file name, and -o with a number, are refused" {
	local n=${N[5]} fw
	fw=$(fullwidth "$n")
	cp "$D/a.csv" "$D/$fw.csv"
	run --separate-stderr spif ingest --purpose x "$D/$fw.csv"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"input: the file name holds what may be an Individual Number"*"rename the file first"* ]]
	run --separate-stderr spif ingest --again --reason t --purpose x -o "$D/out_${n:0:6}-${n:6:6}.ndjson" "$D/a.csv"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"-o: the file name holds"*"rename"* ]]
	[ ! -e "$SPIF_HOME/catalog.db" ]
	# a name with digits that are not a number is fine
	mkdir "$D/2026-11-21_0001"
	cp "$D/a.csv" "$D/2026-11-21_0001/a.csv"
	run --separate-stderr spif ingest --again --reason t --purpose x --print-id "$D/2026-11-21_0001/a.csv"
	[ "$status" -eq 0 ]
	[ "$output" = F000001 ]
}
