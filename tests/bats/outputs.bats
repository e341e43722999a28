#!/usr/bin/env bats
# Every output spif catalogues is catalogued as it is on disk: for each
# command that writes -o (ingest, redact, encrypt both ways, whole streams
# and fields) and for the vault copy that vault cat reads, on outputs of
# several MB, the size and SHA-256 in spif catalog show --json are stat's
# and sha256sum's of the file.  (Outputs larger than one read of the code
# that follows them are where a count can go wrong.)
load helper

setup_file() {
	gnupg_setup
	T=$(gpg_key t) || return 1
	export T
}

teardown_file() {
	gnupg_teardown
}

setup() {
	setup_home
}

# catalogued ID PATH: "SIZE SHA256" of the copy of file ID at PATH, as the
# catalog records it ("missing" when there is no such copy).
catalogued() {
	spif catalog show "$1" --json | perl -MJSON::PP -e '
		my $f = decode_json(join "", <STDIN>);
		for my $c (@{$f->{copies}}) {
			if ($c->{path} eq $ARGV[0]) { print "$c->{size} $c->{sha256}\n"; exit }
		}
		print "missing\n"' "$2"
}

# on_disk PATH: "SIZE SHA256" of the file.
on_disk() {
	echo "$(stat -c %s "$1") $(sha256sum "$1" | cut -d' ' -f1)"
}

# same ID PATH: the catalog has PATH as it is, and it is several MB.
same() {
	local want got
	want=$(on_disk "$2")
	got=$(catalogued "$1" "$2")
	[ "${want%% *}" -gt $((3 << 20)) ] || { echo "$2: only ${want%% *} bytes" >&2; return 1; }
	[ "$got" = "$want" ] || { echo "$2: catalogued as $got, on disk $want" >&2; return 1; }
}

# Records of F000001, several MB, kept in the vault; the records in $D/records.ndjson.
big_records() {
	gen --rows 3000 -o "$D/a.csv"
	spif ingest --purpose 個人住民税 --store --print-id "$D/a.csv" > /dev/null 2>&1
	spif vault cat F000001 > "$D/records.ndjson"
}

@test "outputs: ingest -o and redact -o are catalogued as written" {
	gen --rows 8000 -o "$D/a.csv"
	spif ingest --purpose x -o "$D/in.ndjson" "$D/a.csv" 2>/dev/null
	same F000001 "$D/in.ndjson"
	spif redact -o "$D/r.ndjson" < "$D/in.ndjson" 2>/dev/null
	same F000001 "$D/r.ndjson"
}

@test "outputs: encrypt -o and encrypt -d -o, whole streams, are catalogued as written" {
	big_records
	spif encrypt -r "$T" -o "$D/e.gpg" "$D/records.ndjson" 2>/dev/null
	same F000001 "$D/e.gpg"
	spif encrypt -r "$T" --armor -o "$D/e.asc" "$D/records.ndjson" 2>/dev/null
	same F000001 "$D/e.asc"
	spif encrypt -d -o "$D/d.ndjson" "$D/e.gpg" 2>/dev/null
	cmp "$D/d.ndjson" "$D/records.ndjson"
	same F000001 "$D/d.ndjson"
}

@test "outputs: encrypt --fields -o and its -d -o are catalogued as written" {
	big_records
	spif encrypt -r "$T" --fields 受給者の個人番号 -o "$D/f.ndjson" "$D/records.ndjson" 2>/dev/null
	same F000001 "$D/f.ndjson"
	spif encrypt -d -o "$D/g.ndjson" "$D/f.ndjson" 2>/dev/null
	cmp "$D/g.ndjson" "$D/records.ndjson"
	same F000001 "$D/g.ndjson"
}

@test "outputs: the vault copy vault cat reads, and vault cat into redact -o, are catalogued as written" {
	big_records
	spv=$(ls "$SPIF_HOME"/vault/F000001-*.spv)
	same F000001 "$spv"
	spif vault cat F000001 | spif redact -o "$D/r.ndjson" 2>/dev/null
	same F000001 "$D/r.ndjson"
}
