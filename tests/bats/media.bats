#!/usr/bin/env bats
# spif media: registering removable media with their place and identity,
# listing and retiring them, and spif export knowing the medium it writes
# onto: recorded when registered, refused (77) when spif.conf requires
# registered media and it is not.  A loop-mounted ext4 image stands for a
# USB stick.
load helper

setup_file() {
	gnupg_setup
	R=$(gpg_key r) || return 1
	export R
}

teardown_file() {
	gnupg_teardown
}

setup() {
	setup_home
}

teardown() {
	if [ -n "${MNT:-}" ]; then
		umount "$MNT" 2>/dev/null || true
	fi
	teardown_gpg
}

# usb: an ext4 image loop-mounted at $D/usb (the stick); its UUID in $UUID.
usb() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for loop mounts"
	truncate -s 8M "$D/usb.img"
	mkfs.ext4 -q -F "$D/usb.img"
	UUID=$(blkid -o value -s UUID "$D/usb.img")
	mkdir "$D/usb"
	mount -o loop "$D/usb.img" "$D/usb" || skip "loop mounts are not available here"
	MNT=$D/usb
}

ex() {
	spif export --to-org 印刷委託先 --basis 番号法第19条第6号 --reason 納税通知書の印刷 "$@"
}

stored() {
	gen --rows 5 -o "$D/a.csv"
	spif ingest --purpose 個人住民税の賦課 --store --print-id - < "$D/a.csv" > /dev/null 2>&1
}

@test "media: --help; every option is in both completions" {
	run spif media --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: spif media add ID --kind"* ]]
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	missing=""
	for o in $(spif media --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -qe "$o\\b" "$top/completions/spif.bash" || missing="$missing bash:$o"
		grep -qe "$o\\b" "$top/completions/_spif" || missing="$missing zsh:$o"
	done
	[ -z "$missing" ] || { echo "not completed:$missing"; return 1; }
}

@test "media add (no device), ls, retire; each an event; a second add of the id is refused (73)" {
	run --separate-stderr spif media add DVD-001 --kind dvd --location '税務課 書庫A'
	[ "$status" -eq 0 ]
	[[ "$stderr" == "spif-media: DVD-001 registered (dvd, kept at 税務課 書庫A; no device: it is known by its id only)" ]]
	run spif media ls
	[ "${lines[0]}" = "ID               KIND   STATE    UUID/SERIAL                            LOCATION" ]
	[[ "${lines[1]}" == "DVD-001          dvd    active   -"*"税務課 書庫A" ]]
	run --separate-stderr spif media add DVD-001 --kind dvd --location x
	[ "$status" -eq 73 ]
	one_line_stderr
	run --separate-stderr spif media retire DVD-001 --reason 破損
	[ "$status" -eq 0 ]
	run spif media ls --json
	[[ "$output" == *'"id":"DVD-001"'*'"state":"retired"'*'"retire_reason":"破損"'* ]]
	run spif catalog log --json
	[[ "$output" == *'"action":"media.add","object":"DVD-001"'* ]]
	[[ "$output" == *'"action":"media.retire","object":"DVD-001"'* ]]
	run --separate-stderr spif media retire DVD-001
	[ "$status" -eq 65 ]
}

@test "media: bad ids, kinds and places are usage errors; a number is never recorded" {
	run --separate-stderr spif media add 'a b' --kind usb --location x
	[ "$status" -eq 64 ]
	run --separate-stderr spif media add USB-1 --kind floppy --location x
	[ "$status" -eq 64 ]
	run --separate-stderr spif media add USB-1 --kind usb
	[ "$status" -eq 64 ]
	n=$(valid_number 12345678901)
	run --separate-stderr spif media add USB-1 --kind usb --location "棚 $n"
	[ "$status" -eq 64 ]
	[[ "$stderr" != *"$n"* ]]
	one_line_stderr
	run --separate-stderr spif media add USB-1 --kind usb --location x --device "$D/nowhere"
	[ "$status" -eq 66 ]
}

@test "media add --device: the filesystem's UUID; export onto it records the medium" {
	usb
	run --separate-stderr spif media add USB-001 --kind usb --location '税務課 金庫' --device "$D/usb"
	[ "$status" -eq 0 ]
	[ "$stderr" = "spif-media: USB-001 registered (usb, kept at 税務課 金庫; filesystem UUID $UUID)" ]
	run spif media ls
	[[ "${lines[1]}" == "USB-001          usb    active   $UUID"* ]]
	stored
	run --separate-stderr ex --file F000001 -r "$R" -o "$D/usb/a.gpg"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *" -> $D/usb/a.gpg ("*" bytes) on USB-001" ]]
	run spif export ls --json
	[[ "$output" == *'"medium":"USB-001"'* ]]
	# a medium with an export out is not retired
	run --separate-stderr spif media retire USB-001
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"still out"* ]]
	# --medium must name the medium the output is on
	spif media add DVD-9 --kind dvd --location x 2>/dev/null
	run --separate-stderr ex --file F000001 -r "$R" --medium DVD-9 -o "$D/usb/b.gpg"
	[ "$status" -eq 77 ]
	one_line_stderr
	[ ! -e "$D/usb/b.gpg" ]
}

@test "export onto an unregistered medium: a note, or 77 with require_registered_media (nothing left)" {
	usb
	stored
	run --separate-stderr ex --file F000001 -r "$R" -o "$D/usb/a.gpg"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"note: $D/usb/a.gpg is on a medium that is not registered ($D/usb, $UUID)"* ]]
	printf 'require_registered_media = yes\n' > "$SPIF_CONF"
	before=$(catalog_state)
	run --separate-stderr ex --file F000001 -r "$R" -o "$D/usb/b.gpg"
	[ "$status" -eq 77 ]
	[[ "$stderr" == "spif-export: $D/usb/b.gpg is on an unregistered medium ("*"$UUID); spif.conf requires registered media (spif media add)" ]]
	one_line_stderr
	[ ! -e "$D/usb/b.gpg" ]
	[ "$(catalog_state)" = "$before" ]
	# the local disk is not a medium: exports there are not refused
	run --separate-stderr ex --file F000001 -r "$R" -o "$D/c.gpg"
	[ "$status" -eq 0 ]
	# a retired medium is refused too
	spif media add USB-002 --kind usb --location x --device "$D/usb" 2>/dev/null
	spif media retire USB-002 2>/dev/null
	run --separate-stderr ex --file F000001 -r "$R" -o "$D/usb/d.gpg"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"is on medium USB-002, which is retired"* ]]
	printf 'require_registered_media = maybe\n' > "$SPIF_CONF"
	run --separate-stderr spif media ls
	[ "$status" -eq 65 ]
}
