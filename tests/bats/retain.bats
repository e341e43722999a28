#!/usr/bin/env bats
# spif retain: schedules, events, holds, what is due, the purge cron runs,
# and what survives a purge killed at any moment.
load helper

setup() {
	setup_home
	mkdir -p "$D/data"
	# overwrites need a disk spif may vouch for (see shred.bats)
	printf 'trusted_media = %s\n' "$(disk_of "$D")" > "$SPIF_CONF"
}

teardown() {
	teardown_gpg
}

sql() { sqlite3 "$SPIF_HOME/catalog.db" "$1"; }

@test "schedule: the policy defaults are installed on first use, with their legal basis" {
	# listing them changes nothing, not even creates a catalog
	run --separate-stderr spif retain schedule ls
	[ "$status" -eq 0 ]
	[ ! -e "$SPIF_HOME/catalog.db" ]
	[[ "$output" == *"kazei-shiryo-7y "* ]]
	# the first write installs them
	spif retain schedule add mine --period 1y
	run --separate-stderr spif retain schedule ls
	[ "$status" -eq 0 ]
	for s in kazei-shiryo-7y fuka-3y kosei-5y fusei-7y choshu-5y fuyo-koujo-7y; do
		[[ "$output" == *"$s "* ]] || { echo "missing $s"; return 1; }
	done
	run spif retain schedule show fuyo-koujo-7y
	[ "$status" -eq 0 ]
	[[ "$output" == *"(policy default)"* ]]
	[[ "$output" == *"cutoff:    next-year:01-11"* ]]
	[[ "$output" == *"所得税法施行規則第76条の3"* ]]
	run spif retain schedule show fusei-7y --json
	[[ "$output" == *'"mode":"compliance"'* && *'"basis":"地方税法第17条の5第7項'* ]]
	run spif catalog log --json
	[[ "$output" == *'"action":"schedule.defaults"'* ]]
	# removed, a default does not come back
	spif retain schedule rm choshu-5y
	run spif retain schedule ls
	[[ "$output" != *choshu-5y* ]]
}

@test "schedule add, show, rm; rm is refused while a file uses it" {
	spif retain schedule add kyuyo-5y --period 5y --cutoff fiscal-year --grace 30d --basis "文書管理規程 別表第2"
	run spif retain schedule show kyuyo-5y --json
	[[ "$output" == *'"period":"5y"'*'"from":"received"'*'"cutoff":"fiscal-year"'*'"grace":"30d"'*'"action":"shred"'*'"mode":"governance"'* ]]
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose x --received 2026-06-15 --schedule kyuyo-5y --print-id "$D/data/a.csv" > /dev/null 2>&1
	before=$(catalog_state)
	run --separate-stderr spif retain schedule rm kyuyo-5y
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"schedule kyuyo-5y is used by 1 file that is not disposed"* ]]
	one_line_stderr
	[ "$(catalog_state)" = "$before" ]
	run --separate-stderr spif retain schedule add kyuyo-5y --period 1y
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"already exists"* ]]
	spif retain schedule add spare --period 18m
	spif retain schedule rm spare
	run spif retain schedule show spare
	[ "$status" -eq 65 ]
}

@test "dates: received 2026-06-15, 7 years from the next fiscal year: kept until 2034-03-31, due 2034-04-01" {
	gen --rows 3 -o "$D/data/a.csv"
	run --separate-stderr spif ingest --purpose 個人住民税の賦課 --received 2026-06-15 --schedule kazei-shiryo-7y --print-id "$D/data/a.csv"
	[ "$status" -eq 0 ]
	run spif catalog show F000001 --json
	[[ "$output" == *'"schedule":"kazei-shiryo-7y","retain_until":"2034-03-31"'* ]]
	run spif retain due --as-of 2034-03-31
	[ -z "$output" ]
	run spif retain due --as-of 2034-04-01 --json
	[[ "$output" == '{"id":"F000001","due":"2034-04-01","retain_until":"2034-03-31","schedule":"kazei-shiryo-7y","action":"shred"'* ]]
	# the ingest event says so too
	run spif catalog log --json
	[[ "$output" == *'"dispose_on":"2034-04-01"'*'"schedule":"kazei-shiryo-7y"'* ]]
}

@test "dates: 29 February and month ends (Civil Code art. 143), and a grace" {
	gen --rows 3 -o "$D/data/a.csv"
	spif retain schedule add y1 --period 1y
	spif retain schedule add m1 --period 1m --grace 1m
	spif ingest --purpose x --received 2024-02-29 --schedule y1 --print-id "$D/data/a.csv" > /dev/null 2>&1
	spif ingest --again --reason テスト --purpose x --received 2026-03-31 --schedule m1 --print-id "$D/data/a.csv" > /dev/null 2>&1
	run spif retain due --as-of 2099-01-01 --json
	[[ "${lines[0]}" == *'"id":"F000001","due":"2025-03-01","retain_until":"2025-02-28"'* ]]
	# 31 March + 1 month ends 30 April; a month's grace from 1 May: due 1 June
	[[ "${lines[1]}" == *'"id":"F000002","due":"2026-06-01","retain_until":"2026-04-30"'* ]]
}

@test "an event-based schedule waits for its event; an event before the file was received is refused" {
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose 扶養控除 --received 2025-12-01 --schedule fuyo-koujo-7y --print-id "$D/data/a.csv" > /dev/null 2>&1
	run spif retain due --as-of 2999-01-01
	[ -z "$output" ]
	before=$(catalog_state)
	run --separate-stderr spif retain event F000001 提出期限=2025-11-30
	[ "$status" -eq 65 ]
	[[ "$stderr" == "spif-retain: F000001: 提出期限=2025-11-30 is before the file was received (2025-12-01)" ]]
	[ "$(catalog_state)" = "$before" ]
	run --separate-stderr spif retain event F000001 提出期限=2026-01-09
	[ "$status" -eq 0 ]
	[ "$output" = "F000001: fuyo-koujo-7y, retain until 2034-01-10, due 2034-01-11 (shred)" ]
	run spif retain due --as-of 2034-01-11 --json
	[[ "$output" == *'"id":"F000001"'* ]]
}

@test "compliance: never shortened, never moved to governance; extended freely" {
	spif retain schedule add lock-7y --period 7y --mode compliance
	spif retain schedule add lock-3y --period 3y --mode compliance
	spif retain schedule add lock-9y --period 9y --mode compliance
	spif retain schedule add gov-9y --period 9y
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose x --received 2020-01-01 --schedule lock-7y --print-id "$D/data/a.csv" > /dev/null 2>&1
	before=$(catalog_state)
	run --separate-stderr spif retain assign F000001 --schedule lock-3y --reason 見直し
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"compliance schedule lock-7y: its retention can only be extended, not shortened (retain until 2026-12-31 -> 2022-12-31)"* ]]
	one_line_stderr
	run --separate-stderr spif retain assign F000001 --schedule gov-9y
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"cannot move to the governance schedule gov-9y"* ]]
	[ "$(catalog_state)" = "$before" ]
	run spif retain assign F000001 --schedule lock-9y
	[ "$status" -eq 0 ]
	[[ "$output" == *"retain until 2028-12-31"* ]]
}

@test "governance: an earlier date needs --reason, and the event records the old and new dates" {
	spif retain schedule add g-7y --period 7y
	spif retain schedule add g-1y --period 1y
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose x --received 2020-01-01 --schedule g-7y --print-id "$D/data/a.csv" > /dev/null 2>&1
	before=$(catalog_state)
	run --separate-stderr spif retain assign F000001 --schedule g-1y
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"F000001 would be due earlier (2027-01-01 -> 2021-01-01): in governance mode that needs --reason"* ]]
	one_line_stderr
	[ "$(catalog_state)" = "$before" ]
	run spif retain assign F000001 --schedule g-1y --reason "事務終了 (決裁 2026-123)"
	[ "$status" -eq 0 ]
	run spif catalog log --file F000001 --json
	[[ "$output" == *'"action":"retain.assign"'* ]]
	[[ "$output" == *'"dispose_on":{"new":"2021-01-01","old":"2027-01-01"}'* ]]
	[[ "$output" == *'"reason":"事務終了 (決裁 2026-123)"'*'"shortened":true'* ]]
	# moved to wait for an event, the file could get any date from the
	# event's first recording: that move needs its reason too
	spif retain schedule add taishoku-7y --period 7y --from event:退職日
	before=$(catalog_state)
	run --separate-stderr spif retain assign F000001 --schedule taishoku-7y
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"F000001 would wait for its event 退職日 instead of being due 2021-01-01, and the event may bring an earlier date: in governance mode that needs --reason"* ]]
	one_line_stderr
	[ "$(catalog_state)" = "$before" ]
	run spif retain assign F000001 --schedule taishoku-7y --reason "退職者の書類として管理"
	[ "$status" -eq 0 ]
	# a file with no date yet needs none
	gen --rows 3 -o "$D/data/b.csv"
	spif ingest --again --reason テスト --purpose x --received 2020-01-01 --print-id "$D/data/b.csv" > /dev/null 2>&1
	run spif retain assign F000002 --schedule taishoku-7y
	[ "$status" -eq 0 ]
}

@test "holds stop disposal whatever the dates; purpose holds too; release lets it go" {
	spif retain schedule add short --period 1y
	vault_files 3 --received 2020-01-01 --schedule short
	run --separate-stderr spif retain hold F000001 --reason "訴訟 令和8年(ワ)第1号"
	[ "$status" -eq 0 ]
	[ "$output" = H000001 ]
	run --separate-stderr spif retain hold --purpose 個人住民税の賦課 --reason 調査
	[ "$output" = H000002 ]
	[ -z "$stderr" ]
	# matched exactly: a purpose no file has is said
	run --separate-stderr spif retain hold --purpose 個人住民税の賦 --reason 調査
	[ "$output" = H000003 ]
	[[ "$stderr" == *"no file that is not disposed has the purpose"* ]]
	spif retain release H000003 --reason 誤り
	run spif retain due
	[ -z "$output" ]
	run --separate-stderr spif retain purge
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	spif retain release H000002 --reason 調査終了
	run spif retain due --json
	[ "${#lines[@]}" -eq 2 ]
	[[ "$output" != *F000001* ]]
	run --separate-stderr spif retain purge
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	run spif catalog show F000001 --json
	[[ "$output" == *'"state":"active"'* ]]
	run spif retain holds --json
	[[ "$output" == *'"hold":"H000001","file":"F000001"'* ]]
	[[ "$output" != *H000002* ]]
	run --separate-stderr spif retain release H000002 --reason again
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"hold H000002 was already released"* ]]
}

@test "bad input: each a clear line, its exit code, and the catalog unchanged" {
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose x --received 2026-06-15 --print-id "$D/data/a.csv" > /dev/null 2>&1
	spif retain schedule add mine --period 1y
	before=$(catalog_state)
	run --separate-stderr spif retain schedule add bad --period 7x
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--period: 7x: not a period"* ]]
	one_line_stderr
	run --separate-stderr spif retain schedule add bad --period 7y --cutoff fiscal
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--cutoff: fiscal: not a cutoff"* ]]
	run --separate-stderr spif retain assign F000001 --schedule no-such
	[ "$status" -eq 65 ]
	[[ "$stderr" == "spif-retain: no schedule no-such (see spif retain schedule ls)" ]]
	run --separate-stderr spif retain event F000001 退職日=2026-06-14
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"before the file was received (2026-06-15)"* ]]
	one_line_stderr
	run --separate-stderr spif retain event F000001 退職日=2026-02-30
	[ "$status" -eq 64 ]
	run --separate-stderr spif retain hold F000042 --reason x
	[ "$status" -eq 65 ]
	[[ "$stderr" == "spif-retain: no file F000042 in the catalog" ]]
	run --separate-stderr spif retain hold F000001
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--reason is required"* ]]
	run --separate-stderr spif retain release H000009 --reason x
	[ "$status" -eq 65 ]
	run --separate-stderr spif retain due --as-of tomorrow
	[ "$status" -eq 64 ]
	run --separate-stderr spif retain assign F000001 --schedule kazei-shiryo-7y --period 1y
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--period does not apply to assign"* ]]
	run --separate-stderr spif retain frob
	[ "$status" -eq 64 ]
	one_line_stderr
	run --separate-stderr spif ingest --purpose x --schedule no-such "$D/data/a.csv"
	[ "$status" -eq 65 ]
	[[ "$stderr" == "spif-ingest: no schedule no-such (see spif retain schedule ls)" ]]
	[ "$(catalog_state)" = "$before" ]
}

@test "purge: silent when nothing is due; one line per disposal, a summary; certificates verify" {
	run --separate-stderr spif retain purge
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	vault_files 4 --received 2018-05-01 --schedule kazei-shiryo-7y
	vault_files 2 --schedule kazei-shiryo-7y
	run --separate-stderr spif retain purge
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[0]}" =~ ^F000001\ disposed\ DC-[0-9]{4}-000001\ \(kazei-shiryo-7y,\ due\ 2026-04-01,\ crypto-erase\)$ ]]
	[[ "$stderr" =~ ^spif-retain:\ purge\ 1\ \([0-9-]+\):\ 4\ disposed,\ 0\ redacted,\ 0\ failed\;\ certificates:\ DC-[0-9]{4}-[0-9]{6}(,\ DC-[0-9]{4}-[0-9]{6}){3}$ ]]
	run spif catalog ls --json
	[ "$(grep -c '"state":"disposed"' <<< "$output")" -eq 4 ]
	[ "$(grep -c '"state":"active"' <<< "$output")" -eq 2 ]
	run spif catalog cert show DC-"$(date +%Y)"-000001 --format json
	[[ "$output" == *'"category":"Purge (cryptographic erase)"'* ]]
	[[ "$output" == *'"理由":"保存期間満了 / retention ended (schedule kazei-shiryo-7y, retained until 2026-03-31'* ]]
	run spif catalog cert verify DC-"$(date +%Y)"-000004
	[ "$status" -eq 0 ]
	run spif catalog verify
	[ "$status" -eq 0 ]
	# the month's key went with its files; and nothing is due the next night
	[ "$(sql "SELECT COUNT(*) FROM keks WHERE bucket = '2026-04' AND destroyed IS NOT NULL")" -eq 1 ]
	run --separate-stderr spif retain purge
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "purge: a failure is one line and exit 1; the rest is still disposed" {
	spif retain schedule add short --period 1y
	vault_files 2 --received 2020-01-01 --schedule short
	# a file whose records went only to a pipe: no copy spif could destroy
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --again --reason テスト --purpose x --received 2020-01-01 --schedule short < "$D/data/a.csv" > /dev/null 2>&1
	# and one on tmpfs, which shred refuses
	mkdir -p /dev/shm/spif-retain.$$
	cp "$D/data/a.csv" /dev/shm/spif-retain.$$/a.csv
	spif ingest --again --reason テスト --purpose x --received 2020-01-01 --schedule short --print-id /dev/shm/spif-retain.$$/a.csv > /dev/null 2>&1
	run --separate-stderr spif retain purge
	rm -rf /dev/shm/spif-retain.$$
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(grep -c 'not disposed' <<< "$stderr")" -eq 2 ]
	[[ "$stderr" == *"F000003: not disposed: the catalog knows no copy of it"* ]]
	[[ "$stderr" == *"F000004: not disposed: spif-shred: "*"refused"*"tmpfs"* ]]
	[[ "$stderr" == *"2 disposed, 0 redacted, 2 failed"* ]]
	run spif catalog verify
	[ "$status" -eq 0 ]
	run spif catalog show F000004 --json
	[[ "$output" == *'"state":"active"'* && *'"state":"present"'* ]]
}

@test "purge: files with plain copies go through spif shred; redact schedules keep the record" {
	gen --rows 20 --markers -o "$D/data/a.csv"
	gen --rows 20 -o "$D/data/b.csv"
	spif retain schedule add keep --period 1y --action redact
	spif ingest --purpose x --received 2018-05-01 --schedule kazei-shiryo-7y --store -o "$D/data/a.ndjson" "$D/data/a.csv" 2>/dev/null
	spif ingest --purpose y --received 2020-01-01 --schedule keep --store --print-id "$D/data/b.csv" > /dev/null 2>&1
	run --separate-stderr spif retain purge --syslog
	[ "$status" -eq 0 ]
	# by disposal date: F000002 (2021) first
	[[ "${lines[0]}" =~ ^F000002\ redacted\ DC-[0-9-]+,DC-[0-9-]+\ \(keep,\ due\ 2021-01-01,\ spif\ redact\)$ ]]
	[[ "${lines[1]}" =~ ^F000001\ disposed\ DC-[0-9-]+,DC-[0-9-]+\ .*spif\ shred\)$ ]]
	[ ! -e "$D/data/a.csv" ]
	[ ! -e "$D/data/a.ndjson" ]
	[ ! -e "$D/data/b.csv" ]
	run spif catalog show F000002 --json
	[[ "$output" == *'"state":"redacted"'* ]]
	run spif vault cat F000002
	[ "$status" -eq 0 ]
	run spif redact --check - <<< "$output"
	[ "$status" -eq 0 ]
	run spif catalog cert ls --json
	[[ "$output" == *'"kind":"redaction"'* ]]
	# redacted under a redact schedule: done, never due again
	run spif retain due --as-of 2099-01-01
	[ -z "$output" ]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "purge: its spif shred is found as spif finds a command, SPIF_EXEC_PATH first" {
	spif retain schedule add short --period 1y
	gen --rows 3 -o "$D/data/a.csv"
	spif ingest --purpose x --received 2020-01-01 --schedule short --print-id "$D/data/a.csv" > /dev/null 2>&1
	# a stub that says it ran, with what, and fails as a refusing shred would
	mkdir -p "$D/exec"
	printf '#!/bin/sh\nprintf "%%s\\n" "$@" > "%s"\necho "spif-shred: the stub ran" >&2\nexit 1\n' \
		"$D/exec/ran" > "$D/exec/spif-shred"
	chmod 0755 "$D/exec/spif-shred"
	export SPIF_EXEC_PATH="$D/exec"
	run --separate-stderr spif retain purge
	unset SPIF_EXEC_PATH
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"F000001: not disposed: spif-shred: the stub ran"* ]]
	[ "$(sed -n 1,2p "$D/exec/ran" | tr '\n' ' ')" = "--file F000001 " ]
	[ -e "$D/data/a.csv" ]
	# without it, the spif-shred beside spif-retain disposes of it
	run --separate-stderr spif retain purge
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^F000001\ disposed\ DC-[0-9-]+\ .*spif\ shred\)$ ]]
	[ ! -e "$D/data/a.csv" ]
}

@test "purge --dry-run says what would go and changes nothing" {
	vault_files 2 --received 2018-05-01 --schedule kazei-shiryo-7y
	before=$(catalog_state)
	run --separate-stderr spif retain purge --dry-run
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "would dispose of F000001: shred (crypto-erase of its vault copy; Purge); schedule kazei-shiryo-7y, due 2026-04-01" ]]
	[ "$(catalog_state)" = "$before" ]
}

@test "plan: purge --plan disposes of exactly its entries, re-checked; one edited byte is refused" {
	spif retain schedule add short --period 1y
	vault_files 3 --received 2020-01-01 --schedule short
	spif retain plan > "$D/plan.txt"
	grep -q '^# sha256: [0-9a-f]\{64\}$' "$D/plan.txt"
	[ "$(grep -c '^F' "$D/plan.txt")" -eq 3 ]
	# due later, not in the plan: untouched
	vault_files 1 --received 2020-01-01 --schedule short
	# one edited byte: refused, nothing changed
	before=$(catalog_state)
	sed 's/F000002/F000004/' "$D/plan.txt" > "$D/edited.txt"
	run --separate-stderr spif retain purge --plan "$D/edited.txt"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"the plan was edited"*"nothing was disposed"* ]]
	one_line_stderr
	# edited with its hash recomputed: not a plan this catalog made
	head -n -1 "$D/edited.txt" > "$D/forged.txt"
	printf '# sha256: %s\n' "$(sha256sum < "$D/forged.txt" | cut -d' ' -f1)" >> "$D/forged.txt"
	run --separate-stderr spif retain purge --plan "$D/forged.txt"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"not a plan this catalog made"* ]]
	[ "$(catalog_state)" = "$before" ]
	# held since the plan was made: skipped, said, exit 1
	spif retain hold F000002 --reason 監査 > /dev/null
	run --separate-stderr spif retain purge --plan "$D/plan.txt"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "$stderr" == *"F000002: not disposed: held (H000001)"* ]]
	run spif catalog ls --json
	[[ "$(grep F000004 <<< "$output")" == *'"state":"active"'* ]]
	[[ "$(grep F000002 <<< "$output")" == *'"state":"active"'* ]]
	run spif catalog log --json
	[[ "$output" == *'"action":"retain.plan"'* ]]
	# run again once the hold is gone: the entry left goes, the ones already
	# disposed are not failures (a plan re-run after a kill must exit 0)
	spif retain release H000001 --reason 監査終了 > /dev/null
	run --separate-stderr spif retain purge --plan "$D/plan.txt"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "F000002 disposed DC-"* ]]
	[[ "$stderr" == *"1 disposed, 0 redacted, 0 failed, 2 already done"* ]]
	one_line_stderr
	run --separate-stderr spif retain purge --plan "$D/plan.txt"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"0 disposed, 0 redacted, 0 failed, 3 already done"* ]]
	run spif catalog ls --json
	[[ "$(grep F000004 <<< "$output")" == *'"state":"active"'* ]]
}

@test "two purges started together: one works, the other exits 75" {
	# the first purge is stopped while it holds the lock, so that the
	# second surely meets it; a first purge that finished before it could
	# be caught (a fast machine) is tried again with new files
	held=""
	for attempt in 1 2 3 4 5; do
		vault_files 2 --received 2018-05-01 --schedule kazei-shiryo-7y
		# a large plain copy keeps the first purge busy overwriting it
		printf 'a,個人番号\n1,621498320257\n' | spif ingest --purpose x --received 2018-05-01 --schedule kazei-shiryo-7y -o "$D/data/big$attempt.ndjson" - 2>/dev/null
		head -c 300M /dev/zero > "$D/data/big$attempt.csv"
		fid=$(sql "SELECT MAX(id) FROM files")
		catalog_sql "INSERT INTO copies(file_id, kind, path, size, created) VALUES ($fid, 'output', '$D/data/big$attempt.csv', 314572800, '2018-05-01T00:00:00.000Z')"
		spif retain purge > "$D/first.out" 2>&1 &
		first=$!
		# watched in /proc/locks: probing with flock would itself hold the
		# lock for a moment and could make the first purge exit 75
		for _ in $(seq 3000); do
			ino=$(stat -c %i "$SPIF_HOME/purge.lock" 2>/dev/null) || ino=none
			if grep -qE "FLOCK .*:$ino " /proc/locks; then
				kill -STOP "$first" 2>/dev/null && held=yes
				break
			fi
			sleep 0.002
		done
		[ -z "$held" ] || break
		wait "$first" || true
	done
	[ -n "$held" ]
	run --separate-stderr spif retain purge --wait 0
	kill -CONT "$first"
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"another purge or shred is disposing of files"* ]]
	one_line_stderr
	[ -z "$output" ]
	wait "$first"
	[ "$(grep -c ' disposed DC-' "$D/first.out")" -eq 3 ] || { echo "attempt $attempt"; cat "$D/first.out"; false; }
	run spif catalog verify
	[ "$status" -eq 0 ]
	# spif shred takes the same lock
	gen --rows 3 -o "$D/data/c.csv"
	flock "$SPIF_HOME/purge.lock" sleep 2 &
	sleep 0.3
	run --separate-stderr spif shred --wait 0 "$D/data/c.csv"
	[ "$status" -eq 75 ]
	[ -e "$D/data/c.csv" ]
	wait
}

@test "SIGTERM: the purge stops, says so, exits 75; the next one finishes" {
	printf 'a,個人番号\n1,621498320257\n' | spif ingest --purpose x --received 2018-05-01 --schedule kazei-shiryo-7y -o "$D/data/big.ndjson" - 2>/dev/null
	head -c 600M /dev/zero > "$D/data/big.csv"
	catalog_sql "INSERT INTO copies(file_id, kind, path, size, created) VALUES (1, 'output', '$D/data/big.csv', 629145600, '2018-05-01T00:00:00.000Z')"
	setsid spif retain purge > "$D/out" 2> "$D/err" &
	pid=$!
	# until the overwrite is under way (the first bytes are no longer zeros)
	for _ in $(seq 600); do
		cmp -s -n 4096 "$D/data/big.csv" /dev/zero || break
		sleep 0.05
	done
	kill -TERM -- "-$pid"
	wait "$pid" && status=0 || status=$?
	[ "$status" -eq 75 ]
	[ ! -s "$D/out" ]
	grep -q "F000001: not disposed: .*interrupted" "$D/err"
	grep -q "interrupted: the rest is left for the next purge" "$D/err"
	# partly overwritten: left "disposing" (spif-shred(1)), which verify
	# reports and the next purge finishes
	[ "$(sql "SELECT state FROM copies WHERE path = '$D/data/big.csv'")" = disposing ]
	run spif catalog verify
	[ "$status" -eq 1 ]
	run --separate-stderr spif retain purge
	[ "$status" -eq 0 ]
	[[ "$output" == "F000001 disposed DC-"* ]]
	[ ! -e "$D/data/big.csv" ]
	spif catalog verify
}

@test "crash: SIGKILL a purge at random moments; the rerun finishes, nothing disposed or certified twice" {
	spif retain schedule add keep --period 1y --action redact
	vault_files 40 --received 2018-05-01 --schedule kazei-shiryo-7y
	gen --rows 50 -o "$D/data/r.csv"
	for i in 1 2 3; do
		spif ingest --again --reason テスト --purpose y --received 2018-05-01 --schedule keep --store --print-id - < "$D/data/r.csv" > /dev/null 2>&1
		cp "$D/data/r.csv" "$D/data/p$i.csv"
		spif ingest --again --reason テスト --purpose z --received 2018-05-01 --schedule kazei-shiryo-7y --store --print-id "$D/data/p$i.csv" > /dev/null 2>&1
	done
	total=$(sql "SELECT COUNT(*) FROM files")
	for round in 1 2 3 4 5 6; do
		setsid spif retain purge > "$D/out.$round" 2>&1 &
		pid=$!
		sleep "0.$((RANDOM % 9))$((RANDOM % 10))"
		# half the rounds: the whole process group, as a power cut would;
		# the others only the purge, leaving a child to finish under the lock
		if [ $((round % 2)) -eq 0 ] && [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ]; then
			kill -KILL -- "-$pid" 2>/dev/null || true
		else
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
	# the rerun: until the lock is free (a surviving child holds it)
	for _ in $(seq 200); do
		run --separate-stderr spif retain purge
		[ "$status" -ne 75 ] && break
		sleep 0.1
	done
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$(sql "PRAGMA integrity_check")" = ok ]
	# everything due is done, exactly once
	[ "$(sql "SELECT COUNT(*) FROM files WHERE state IN ('disposed','redacted')")" -eq "$total" ]
	[ "$(sql "SELECT COUNT(*) FROM copies WHERE state = 'disposing'")" -eq 0 ]
	[ "$(sql "SELECT COUNT(*) FROM purge_items WHERE state = 'started'")" -eq 0 ]
	[ -z "$(sql "SELECT copy_id FROM certificate_copies GROUP BY copy_id HAVING COUNT(*) > 1")" ]
	[ "$(sql "SELECT COUNT(*) FROM copies WHERE state = 'disposed' AND id NOT IN (SELECT copy_id FROM certificate_copies)")" -eq 0 ]
	[ "$(sql "SELECT COUNT(*) FROM files f WHERE state = 'disposed' AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.file_id = f.id)")" -eq 0 ]
	[ "$(sql "SELECT COUNT(*) FROM files f WHERE state = 'redacted' AND (SELECT COUNT(*) FROM certificates c WHERE c.file_id = f.id AND kind = 'redaction') != 1")" -eq 0 ]
	[ "$(sql "SELECT COUNT(*) FROM purge_items WHERE state = 'done'")" -ge "$total" ]
	# no ciphertext of a disposed file is left in the vault, no plain copy on disk
	for p in $(sql "SELECT path FROM copies WHERE state = 'disposed'"); do [ ! -e "$p" ]; done
	run spif catalog verify
	[ "$status" -eq 0 ]
	run --separate-stderr spif retain purge
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "report: files by purpose and state, disposals with certificates, overdue, holds" {
	spif retain schedule add short --period 1y
	vault_files 3 --received 2020-01-01 --schedule short
	spif retain hold F000003 --reason 監査 > /dev/null
	spif retain purge > /dev/null 2>&1
	run spif retain report --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"files_by_purpose":[{"purpose":"個人住民税の賦課","active":1,"redacted":0,"disposed":2,"without_schedule":0}]'* ]]
	[[ "$output" == *'"disposals":[{"issued":"'*'"certificate":"DC-'*'"kind":"disposal","file":"F000001"'* ]]
	[[ "$output" == *'"overdue":[{"file":"F000003","due":"2021-01-01"'*'"held_by":"H000001"}]'* ]]
	[[ "$output" == *'"holds":[{"file":"F000003"'*'"reason":"監査"'* ]]
	[[ "$output" == *'"purges":[{"purge":1,'*'"disposed":2,"failed":0}]'* ]]
	run spif retain report
	[[ "$output" == *"Retention report: fiscal year"* ]]
	[[ "$output" == *"F000003  due 2021-01-01"*"held by H000001"* ]]
	run spif retain report --fiscal-year 2019 --json
	[[ "$output" == *'"from":"2019-04-01","to":"2020-03-31"'*'"disposals":[]'* ]]
}

@test "a hold or a new schedule for a file a purge has claimed is refused, and the purge finishes it" {
	spif retain schedule add short --period 1y
	vault_files 1 --received 2020-01-01 --schedule short
	# a purge that was killed right after claiming it
	catalog_sql "INSERT INTO purges(started, operator, today) VALUES ('2026-01-01T00:00:00.000Z', 'x', '2026-01-01');
	     INSERT INTO purge_items(purge_id, file_id, action, state, started, claim_seq) VALUES (1, 1, 'shred', 'started', '2026-01-01T00:00:00.000Z', 0);"
	run --separate-stderr spif catalog verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"F000001 was claimed by purge 1, which was interrupted before it finished; run spif retain purge"* ]]
	before=$(spif catalog ls --json; spif catalog log --json | wc -l)
	run --separate-stderr spif retain hold F000001 --reason 遅すぎ
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"F000001 is being disposed of by a purge"* ]]
	run --separate-stderr spif retain assign F000001 --schedule fusei-7y
	[ "$status" -eq 75 ]
	[ "$(spif catalog ls --json; spif catalog log --json | wc -l)" = "$before" ]
	run --separate-stderr spif retain purge
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"finishing 1 file an interrupted purge had claimed"* ]]
	[[ "$output" == "F000001 disposed DC-"* ]]
	run spif catalog verify
	[ "$status" -eq 0 ]
}

@test "retain --help, spif help retain, and the command list" {
	run spif retain --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: spif retain schedule add"* ]]
	run spif --help
	[[ "$output" == *"  retain "* ]]
	run --separate-stderr spif retain
	[ "$status" -eq 64 ]
	one_line_stderr
}

@test "holds and schedules bind spif shred and spif redact --file too, not only a purge" {
	spif retain schedule add short --period 1y
	spif retain schedule add gov --period 90y
	spif retain schedule add locked --period 90y --mode compliance
	gen --rows 3 -o "$D/data/a.csv"
	gen --rows 3 -o "$D/data/b.csv"
	gen --rows 3 -o "$D/data/c.csv"
	# F000001 is past its date but held; F000002 is kept by governance
	# until 2110; F000003 by compliance
	spif ingest --again --reason テスト --purpose x --received 2020-01-01 --schedule short --store --print-id "$D/data/a.csv" > /dev/null 2>&1
	spif ingest --again --reason テスト --purpose x --received 2020-01-01 --schedule gov --store --print-id "$D/data/b.csv" > /dev/null 2>&1
	spif ingest --again --reason テスト --purpose x --received 2020-01-01 --schedule locked --store --print-id "$D/data/c.csv" > /dev/null 2>&1
	spif retain hold F000001 --reason "情報漏えい事案 調査中" > /dev/null
	before=$(catalog_state)
	# a hold stops every copy, one path as much as the whole file
	run --separate-stderr spif shred --file F000001
	[ "$status" -eq 77 ]
	[ "$stderr" = "spif-shred: F000001 is held (H000001): no copy of it is destroyed until every hold is released (spif retain release)" ]
	run --separate-stderr spif shred "$D/data/a.csv"
	[ "$status" -eq 77 ]
	one_line_stderr
	[ -e "$D/data/a.csv" ]
	run --separate-stderr spif redact --file F000001
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"F000001 is held (H000001)"* ]]
	# governance: refused without the bypass, and the bypass needs a reason
	run --separate-stderr spif shred --file F000002
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"F000002 is kept under schedule gov: not due until 2110-01-01 (--bypass-governance"* ]]
	run --separate-stderr spif shred --bypass-governance --file F000002
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--bypass-governance needs --reason"* ]]
	# compliance: no bypass at all
	run --separate-stderr spif shred --bypass-governance --reason 誤登録 --file F000003
	[ "$status" -eq 77 ]
	[ "$stderr" = "spif-shred: F000003 must be kept until 2109-12-31 under compliance: it cannot be disposed of before then, and compliance cannot be bypassed" ]
	run --separate-stderr spif redact --bypass-governance --reason 誤登録 --file F000003
	[ "$status" -eq 77 ]
	# a dry run is refused the same way
	run --separate-stderr spif shred --dry-run --file F000003
	[ "$status" -eq 77 ]
	[ -e "$D/data/b.csv" ]
	[ -e "$D/data/c.csv" ]
	[ "$(catalog_state)" = "$before" ]
	# one stray copy of a kept file may go while the vault copy stays
	run --separate-stderr spif shred "$D/data/b.csv"
	[ "$status" -eq 0 ]
	[ ! -e "$D/data/b.csv" ]
	# the bypass goes, and the audit log says who, why and the dates, first
	run --separate-stderr spif shred --bypass-governance --reason 本人からの削除請求 --file F000002
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^DC-[0-9]{4}-[0-9]{6}$ ]]
	run spif catalog log --json
	[[ "$output" == *'"action":"retain.bypass","object":"F000002"'* ]]
	[[ "$output" == *'"dispose_on":"2110-01-01"'* ]]
	[[ "$output" == *'"reason":"本人からの削除請求"'* ]]
	run spif catalog show F000002 --json
	[[ "$output" == *'"state":"disposed"'* ]]
	# released, the held file goes
	spif retain release H000001 --reason 調査終了 > /dev/null
	run --separate-stderr spif shred --file F000001
	[ "$status" -eq 0 ]
	run spif catalog verify
	[ "$status" -eq 0 ]
}
