# bash completion for spif(7): spif, spif-ingest, spif-catalog, spif-shred,
# spif-redact, spif-vault, spif-encrypt, spif-retain, spif-operator,
# spif-export, spif-media, spif-incident
#
# Installed as share/bash-completion/completions/spif; works with or
# without the bash-completion package.  File ids (F000001) are read with
# "spif catalog ls --json", the ids of files with a vault copy with
# "spif vault ls --json", and certificate ids (DC-2026-000001) with
# "spif catalog cert ls --json", schedules with "spif retain schedule ls
# --json", holds with "spif retain holds --json", operators with "spif
# operator ls --json", export ids with "spif export ls --json" and media
# with "spif media ls --json", incidents with "spif incident ls --all
# --json" (reads that change nothing), from the home
# named by --home if given;
# pseudonym keys are the names of HOME/keys/psn-NAME.key; signing keys come
# from "gpg --list-secret-keys --with-colons" and recipients from "gpg
# --list-keys --with-colons" when gpg exists.

_spif_ingest_opts="--purpose --label --source --received --format --encoding
	--number-field --on-invalid --to --output-encoding -o --output --print-id
	--store --schedule --again --reason --copy-of --home --help"
_spif_catalog_opts="--json --home --help"
_spif_cert_opts="--home --help"
_spif_shred_opts="--method --passes --zero --force --reason --destination
	--sign --dry-run --bypass-governance --changed-ok --file --resume --wait --home --help"
_spif_redact_opts="--field --op --key --new-key --min-confidence --corporate
	--number-field --format --encoding --to --output-encoding --check --report
	-o --output --file --home --help"
_spif_redact_file_opts="--op --key --reason --sign --bypass-governance --corporate --home --help"
_spif_redact_ops="mask empty drop pseudonym"
_spif_encrypt_opts="-r --recipient --sign --armor --passphrase-file --fields
	--format --encoding --to --output-encoding -d --decrypt -o --output --home
	--help"
_spif_decrypt_opts="--require-signature --reason --passphrase-file -o --output --home
	--help"
_spif_retain_subs="schedule assign event hold release holds due plan approve purge report unscheduled"
_spif_operator_subs="add ls show grant revoke lock unlock retire approve approvals revoke-approval"
_spif_roles="operator approver auditor responder admin"
_spif_export_opts="--file --purpose -r --recipient --sign --redact --key --fields
	--drop --format --to --output-encoding --to-org --to-person --basis --medium
	--seal --due --reason -o --output --forensic --incident --since --until --home --help --zip-aes256
	--passphrase-file --subject-file --with-records"
_spif_export_subs="verify ls return destroyed lost delivered"

# _spif_reply WORDS CUR: COMPREPLY from a word list.
_spif_reply()
{
	local IFS=$' \t\n'
	COMPREPLY=($(compgen -W "$1" -- "$2"))
}

# _spif_files CUR [dirs]: file names (or directories only).
_spif_files()
{
	if [[ $2 == dirs ]]; then
		if declare -F _filedir >/dev/null; then
			_filedir -d
		else
			compopt -o filenames 2>/dev/null
			local IFS=$'\n'
			COMPREPLY=($(compgen -d -- "$1"))
		fi
	elif [[ $2 == records ]] && declare -F _filedir >/dev/null; then
		_filedir '@(csv|CSV|tsv|TSV|tab|TAB|ndjson|NDJSON|jsonl|JSONL)'
	elif declare -F _filedir >/dev/null; then
		_filedir
	else
		compopt -o filenames 2>/dev/null
		local IFS=$'\n'
		COMPREPLY=($(compgen -f -- "$1"))
	fi
}

# _spif_ids CUR HOME [cert]: the catalog's file ids (or certificate ids).
_spif_ids()
{
	local ids
	ids=$(${_spif_front:-spif} ${2:+--home "$2"} catalog ${3:+cert} ls --json 2>/dev/null |
		sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
	_spif_reply "$ids" "$1"
}

# _spif_vault_ids CUR HOME: the files that have a vault copy present.
_spif_vault_ids()
{
	local ids
	ids=$(${_spif_front:-spif} ${2:+--home "$2"} vault ls --json 2>/dev/null |
		sed -n 's/^{"file":"\([^"]*\)","state":"present".*/\1/p')
	_spif_reply "$ids" "$1"
}

# _spif_schedules CUR HOME: the schedules' names.
_spif_schedules()
{
	local names
	names=$(${_spif_front:-spif} ${2:+--home "$2"} retain schedule ls --json 2>/dev/null |
		sed -n 's/^{"name":"\([^"]*\)".*/\1/p')
	_spif_reply "$names" "$1"
}

# _spif_events CUR HOME: NAME= for the events schedules count from.
_spif_events()
{
	local names
	names=$(${_spif_front:-spif} ${2:+--home "$2"} retain schedule ls --json 2>/dev/null |
		sed -n 's/.*"from":"event:\([^"+]*\).*/\1=/p' | sort -u)
	_spif_reply "$names" "$1"
	compopt -o nospace 2>/dev/null
}

# _spif_holds CUR HOME: the holds in force.
_spif_holds()
{
	local ids
	ids=$(${_spif_front:-spif} ${2:+--home "$2"} retain holds --json 2>/dev/null |
		sed -n 's/^{"hold":"\([^"]*\)".*/\1/p')
	_spif_reply "$ids" "$1"
}

# _spif_operators CUR HOME: the operators' names.
_spif_operators()
{
	local names
	names=$(${_spif_front:-spif} ${2:+--home "$2"} operator ls --json 2>/dev/null |
		sed -n 's/^{"name":"\([^"]*\)".*/\1/p')
	_spif_reply "$names" "$1"
}

# _spif_homedir HOME: the home a command would use: HOME (from --home),
# else $SPIF_HOME, else the home key of spif.conf, else
# $XDG_DATA_HOME/spif (when absolute), else ~/.local/share/spif.
_spif_homedir()
{
	local h=${1:-$SPIF_HOME} conf=${SPIF_CONF:-/etc/spif/spif.conf}
	if [[ -z $h && -r $conf ]]; then
		h=$(sed -n 's/#.*//; s/^[[:space:]]*home[[:space:]]*=[[:space:]]*//p' "$conf" |
			sed 's/[[:space:]]*$//' | tail -n 1)
	fi
	if [[ -z $h ]]; then
		if [[ $XDG_DATA_HOME == /* ]]; then
			h=$XDG_DATA_HOME/spif
		else
			h=$HOME/.local/share/spif
		fi
	fi
	[[ $h == "~"* ]] && h=$HOME${h#"~"}
	printf '%s\n' "$h"
}

# _spif_psn_keys CUR HOME: the pseudonym keys (HOME/keys/psn-NAME.key).
_spif_psn_keys()
{
	local dir f keys=""
	dir=$(_spif_homedir "$2")/keys
	for f in "$dir"/psn-*.key; do
		[[ -f $f ]] || continue
		f=${f##*/psn-}
		keys+=" ${f%.key}"
	done
	_spif_reply "$keys" "$1"
}

# _spif_export_ids CUR HOME [out]: the ledger's export ids (only those out).
_spif_export_ids()
{
	local ids
	ids=$(${_spif_front:-spif} ${2:+--home "$2"} export ls ${3:+--outstanding} --json 2>/dev/null |
		sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
	_spif_reply "$ids" "$1"
}

# _spif_incident_ids CUR HOME: the incidents, open and closed.
_spif_incident_ids()
{
	local ids
	ids=$(${_spif_front:-spif} ${2:+--home "$2"} incident ls --all --json 2>/dev/null |
		sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
	_spif_reply "$ids" "$1"
}

# _spif_media_ids CUR HOME: the registered media.
_spif_media_ids()
{
	local ids
	ids=$(${_spif_front:-spif} ${2:+--home "$2"} media ls --json 2>/dev/null |
		sed -n 's/^{"id":"\([^"]*\)".*"state":"active".*/\1/p')
	_spif_reply "$ids" "$1"
}

# _spif_keys CUR [public]: the secret keys GnuPG can sign with (key ids,
# fingerprints, e-mail addresses), or the public keys it can encrypt to;
# nothing without gpg.
_spif_keys()
{
	COMPREPLY=()
	type -P gpg >/dev/null || return 0
	local keys list=--list-secret-keys
	[[ $2 == public ]] && list=--list-keys
	keys=$(gpg $list --with-colons 2>/dev/null | awk -F: '
		($1 == "sec" || $1 == "pub") { print $5; primary = 1; next }
		$1 == "fpr" && primary { print $10; primary = 0; next }
		($1 == "ssb" || $1 == "sub") { primary = 0; next }
		$1 == "uid" && match($10, /<[^<>]+>/) { print substr($10, RSTART + 1, RLENGTH - 2) }')
	_spif_reply "$keys" "$1"
}

# _spif_value OPT CUR HOME: complete the value of an option; 1 if OPT
# takes no value.
_spif_value()
{
	case $1 in
	--format)
		case $_spif_cmd in
		catalog) _spif_reply "text json pdf" "$2" ;;
		redact) _spif_reply "ndjson csv tsv text" "$2" ;;
		export) _spif_reply "bag dir tar" "$2" ;;
		*) _spif_reply "csv tsv ndjson" "$2" ;;
		esac
		;;
	--to)
		if [[ $_spif_cmd == export ]]; then
			_spif_reply "ndjson csv" "$2"
		else
			_spif_reply "ndjson csv tsv" "$2"
		fi
		;;
	--encoding) _spif_reply "auto utf-8 utf-8-bom cp932 euc-jp" "$2" ;;
	--output-encoding) _spif_reply "utf-8 utf-8-bom cp932 euc-jp" "$2" ;;
	--on-invalid) _spif_reply "reject flag" "$2" ;;
	--state) _spif_reply "active redacted disposed" "$2" ;;
	--received | --as-of | --since | --until | --due) _spif_reply "$(date +%Y-%m-%d)" "$2" ;;
	--role)
		# ROLE[,ROLE...]: the roles after the last comma
		local pre=""
		[[ $2 == *,* ]] && pre=${2%,*},
		_spif_reply "$_spif_roles" "${2##*,}"
		local r
		for r in "${!COMPREPLY[@]}"; do
			COMPREPLY[r]="$pre${COMPREPLY[r]}"
		done
		;;
	--operator) _spif_operators "$2" "$3" ;;
	--schedule) _spif_schedules "$2" "$3" ;;
	--from) _spif_reply "received created event:" "$2"; compopt -o nospace 2>/dev/null ;;
	--cutoff) _spif_reply "none fiscal-year calendar-year next-year:" "$2" ;;
	--action)
		if [[ $_spif_cmd == catalog ]]; then
			_spif_reply "ingest copy.lost copy.add hold.place hold.release shred certificate file.disposed
				redact retain.assign schedule.bind purge" "$2"
		else
			_spif_reply "shred redact" "$2"
		fi
		;;
	--copy-of) _spif_ids "$2" "$3" ;;
	--mode) _spif_reply "governance compliance" "$2" ;;
	--fiscal-year) _spif_reply "$(date +%Y)" "$2" ;;
	--ledger) _spif_reply "disposal checkout files" "$2" ;;
	--plan) _spif_files "$2" ;;
	--home) _spif_files "$2" dirs ;;
	-o | --output)
		if [[ $_spif_cmd == catalog ]]; then
			_spif_files "$2" dirs
		else
			_spif_files "$2"
		fi
		;;
	--file)
		if [[ $_spif_cmd == redact ]]; then
			_spif_vault_ids "$2" "$3"
		else
			_spif_ids "$2" "$3"
		fi
		;;
	--method) _spif_reply "auto overwrite crypto" "$2" ;;
	--sign | --key) _spif_keys "$2" ;;
	-r | --recipient) _spif_keys "$2" public ;;
	--passphrase-file) _spif_files "$2" ;;
	--op)
		if [[ $_spif_mode == file ]]; then
			_spif_reply "mask empty pseudonym" "$2"
		else
			_spif_reply "$_spif_redact_ops" "$2"
		fi
		;;
	--field)
		# NAME=OP: the operators after the last '=' (the name is free)
		if [[ $2 == *=* ]]; then
			local name=${2%=*}
			_spif_reply "$_spif_redact_ops" "${2##*=}"
			# bash did not split the word at '=': it replaces all of it
			if [[ ${COMP_WORDS[COMP_CWORD]} == ?*=* ]]; then
				local r
				for r in "${!COMPREPLY[@]}"; do
					COMPREPLY[r]="$name=${COMPREPLY[r]}"
				done
			fi
		else
			COMPREPLY=()
		fi
		;;
	--min-confidence) _spif_reply "low high" "$2" ;;
	--key)
		# catalog: the checkpoints' public key, a file; redact: a pseudonym key
		if [[ $_spif_cmd == catalog ]]; then
			_spif_files "$2"
		else
			_spif_psn_keys "$2" "$3"
		fi
		;;
	--checkpoint | --append) _spif_files "$2" ;;
	--report | --certificate | --subject-file) _spif_files "$2" ;;
	--redact) _spif_reply "$_spif_redact_ops" "$2" ;;
	--medium) _spif_media_ids "$2" "$3" ;;
	--incident) _spif_incident_ids "$2" "$3" ;;
	--kind) _spif_reply "usb dvd hdd other" "$2" ;;
	--device) _spif_files "$2" ;;
	--seal)
		if [[ $_spif_mode == return ]]; then
			_spif_reply "intact broken" "$2"
		else
			COMPREPLY=()
		fi
		;;
	--purpose | --label | --source | --number-field | --limit | -n | --note | \
	--passes | --reason | --destination | --new-key | --fields | --period | --grace | --basis | \
	--wait | --drop | --to-org | --to-person | --received-by | --location)
		COMPREPLY=() ;;
	*) return 1 ;;
	esac
	return 0
}

_spif()
{
	local cur prev words cword
	COMPREPLY=()
	words=("${COMP_WORDS[@]}")
	cword=$COMP_CWORD
	cur=${words[cword]}

	# Put "--opt=value" back together where bash split it at '=', and
	# "--field NAME=OP" too.
	local -a w=()
	local i j=0 wc=0
	for ((i = 0; i < ${#words[@]}; i++)); do
		if [[ ${words[i]} == = && $i -gt 0 ]] &&
			[[ ${w[j - 1]} == --* || (j -gt 1 && ${w[j - 2]} == --field) ]]; then
			w[j - 1]+="="
			((i == cword)) && wc=$((j - 1))
			if ((i + 1 < ${#words[@]})) && [[ ${words[i + 1]} != = ]]; then
				w[j - 1]+=${words[i + 1]}
				((i + 1 == cword)) && wc=$((j - 1))
				((i++))
			fi
			continue
		fi
		w[j]=${words[i]}
		((i == cword)) && wc=$j
		((j++))
	done
	((cword >= ${#words[@]})) && wc=$j
	cur=${w[wc]}
	prev=${w[wc - 1]}

	# Which program: the front, or spif-CMD run directly.
	local cmd="" home="" k=1 _spif_front=spif _spif_cmd="" _spif_mode=""
	case ${w[0]##*/} in
	spif-ingest) cmd=ingest ;;
	spif-catalog) cmd=catalog ;;
	spif-shred) cmd=shred ;;
	spif-redact) cmd=redact ;;
	spif-vault) cmd=vault ;;
	spif-encrypt) cmd=encrypt ;;
	spif-retain) cmd=retain ;;
	spif-operator) cmd=operator ;;
	spif-export) cmd=export ;;
	spif-media) cmd=media ;;
	spif-incident) cmd=incident ;;
	*)
		_spif_front=${w[0]}
		while ((k < wc)); do
			case ${w[k]} in
			--home) home=${w[k + 1]}; ((k += 2)) ;;
			--home=*) home=${w[k]#--home=}; ((k++)) ;;
			-*) ((k++)) ;;
			*) cmd=${w[k]}; ((k++)); break ;;
			esac
		done
		;;
	esac
	_spif_cmd=$cmd

	# --home after the command names the catalog too (for --file, ids);
	# redact has three forms: records, --file ID and --new-key NAME
	local m
	for ((m = k; m < wc; m++)); do
		case ${w[m]} in
		--home) home=${w[m + 1]}; ((m++)) ;;
		--home=*) home=${w[m]#--home=} ;;
		--file | --file=*) [[ $cmd == redact ]] && _spif_mode=file ;;
		--new-key | --new-key=*) [[ $cmd == redact ]] && _spif_mode=newkey ;;
		-d | --decrypt) [[ $cmd == encrypt ]] && _spif_mode=decrypt ;;
		return) [[ $cmd == export ]] && _spif_mode=return ;;
		esac
	done

	# "--opt=val": complete val (with "--opt=" in front when bash did not
	# split the word at '=' and so will replace all of it).
	if [[ $cur == --*=* ]]; then
		local opt=${cur%%=*} val=${cur#*=}
		_spif_value "$opt" "$val" "$home" || COMPREPLY=()
		if [[ ${COMP_WORDS[COMP_CWORD]} == --*=* ]]; then
			local r
			for r in "${!COMPREPLY[@]}"; do
				COMPREPLY[r]="$opt=${COMPREPLY[r]}"
			done
		fi
		return 0
	fi

	# A value for the previous option?
	if [[ $prev == -* && $prev != *=* ]] && _spif_value "$prev" "$cur" "$home"; then
		return 0
	fi

	case $cmd in
	"")
		if [[ $cur == -* ]]; then
			_spif_reply "--home --version --help" "$cur"
		else
			_spif_reply "ingest catalog shred redact vault encrypt retain operator export media incident help" "$cur"
		fi
		;;
	help)
		((wc == k)) && _spif_reply "ingest catalog shred redact vault encrypt retain operator export media incident" "$cur"
		;;
	operator)
		# SUB NAME [PURPOSE]
		local sub="" n=0
		for ((m = k; m < wc; m++)); do
			case ${w[m]} in
			--home) home=${w[m + 1]}; ((m++)) ;;
			--role | --key | --file | --reason | --purpose | --for | --hours) ((m++)) ;;
			-*) ;;
			*)
				if [[ -z $sub ]]; then
					sub=${w[m]}
				else
					((n++))
				fi
				;;
			esac
		done
		local common="--home --help"
		if [[ $cur == -* ]]; then
			case $sub in
			add) _spif_reply "--role --key --sudo $common" "$cur" ;;
			ls | show) _spif_reply "--json $common" "$cur" ;;
			grant | revoke) _spif_reply "--file $common" "$cur" ;;
			lock | unlock | retire | revoke-approval) _spif_reply "--reason $common" "$cur" ;;
			approve) _spif_reply "--purpose --for --reason --hours $common" "$cur" ;;
			approvals) _spif_reply "--all --json $common" "$cur" ;;
			*) _spif_reply "$common" "$cur" ;;
			esac
			return 0
		fi
		case $sub in
		"") _spif_reply "$_spif_operator_subs" "$cur" ;;
		show | grant | revoke | lock | unlock | retire) ((n == 0)) && _spif_operators "$cur" "$home" ;;
		approve)
			if [[ $prev == --for ]]; then
				_spif_operators "$cur" "$home"
			elif ((n == 0)); then
				_spif_reply "bypass export" "$cur"
			elif ((n == 1)); then
				_spif_ids "$cur" "$home"
			fi
			;;
		esac
		;;
	retain)
		# SUB [SUBSUB] ARGS: find them, skipping the options' values
		local sub="" ssub="" n=0
		for ((m = k; m < wc; m++)); do
			case ${w[m]} in
			--home) home=${w[m + 1]}; ((m++)) ;;
			--period | --from | --cutoff | --grace | --action | --mode | --basis | --schedule | \
			--reason | --purpose | --as-of | --plan | --fiscal-year | --sign | --wait) ((m++)) ;;
			-*) ;;
			*)
				if [[ -z $sub ]]; then
					sub=${w[m]}
				elif [[ $sub == schedule && -z $ssub ]]; then
					ssub=${w[m]}
				else
					((n++))
				fi
				;;
			esac
		done
		local common="--home --help"
		if [[ $cur == -* ]]; then
			case $sub in
			schedule)
				case $ssub in
				add) _spif_reply "--period --from --cutoff --grace --action --mode --basis $common" "$cur" ;;
				ls | show) _spif_reply "--json $common" "$cur" ;;
				bind) _spif_reply "--purpose $common" "$cur" ;;
				*) _spif_reply "$common" "$cur" ;;
				esac
				;;
			assign) _spif_reply "--schedule --reason $common" "$cur" ;;
			event | release) _spif_reply "--reason $common" "$cur" ;;
			hold) _spif_reply "--purpose --reason $common" "$cur" ;;
			holds) _spif_reply "--all --json $common" "$cur" ;;
			due) _spif_reply "--as-of --json $common" "$cur" ;;
			plan) _spif_reply "--as-of $common" "$cur" ;;
			approve) _spif_reply "$common" "$cur" ;;
			purge) _spif_reply "--dry-run --plan --syslog --sign --wait $common" "$cur" ;;
			report) _spif_reply "--fiscal-year --json $common" "$cur" ;;
			unscheduled) _spif_reply "--json $common" "$cur" ;;
			*) _spif_reply "$common" "$cur" ;;
			esac
			return 0
		fi
		case $sub in
		"") _spif_reply "$_spif_retain_subs" "$cur" ;;
		schedule)
			if [[ -z $ssub ]]; then
				_spif_reply "add ls show rm bind" "$cur"
			elif [[ ($ssub == show || $ssub == rm || $ssub == bind) ]] && ((n == 0)); then
				_spif_schedules "$cur" "$home"
			fi
			;;
		assign | hold) ((n == 0)) && _spif_ids "$cur" "$home" ;;
		event)
			if ((n == 0)); then
				_spif_ids "$cur" "$home"
			elif ((n == 1)); then
				_spif_events "$cur" "$home"
			fi
			;;
		release) ((n == 0)) && _spif_holds "$cur" "$home" ;;
		approve) ((n == 0)) && _spif_files "$cur" ;;
		esac
		;;
	ingest)
		if [[ $cur == -* ]]; then
			_spif_reply "$_spif_ingest_opts -" "$cur"
		else
			_spif_files "$cur" records
		fi
		;;
	shred)
		# FILE..., --file ID or --resume: one of them
		local given=""
		for ((m = k; m < wc; m++)); do
			case ${w[m]} in
			--file | --file=* | --resume) given=yes ;;
			esac
		done
		if [[ $cur == -* ]]; then
			_spif_reply "$_spif_shred_opts" "$cur"
		elif [[ -z $given ]]; then
			_spif_files "$cur"
		fi
		;;
	redact)
		# at most one input, and none with --file or --new-key
		local n=0
		for ((m = k; m < wc; m++)); do
			case ${w[m]} in
			--field | --op | --key | --new-key | --min-confidence | --number-field | \
			--format | --encoding | --to | --output-encoding | --report | -o | --output | \
			--home | --file | --reason | --sign) ((m++)) ;;
			-?*) ;;
			*) ((n++)) ;;
			esac
		done
		if [[ $cur == -* ]]; then
			case $_spif_mode in
			file) _spif_reply "$_spif_redact_file_opts" "$cur" ;;
			newkey) _spif_reply "--home --help" "$cur" ;;
			*) _spif_reply "$_spif_redact_opts -" "$cur" ;;
			esac
		elif [[ -z $_spif_mode ]] && ((n == 0)); then
			_spif_files "$cur"
		fi
		;;
	encrypt)
		# one input; -d takes fewer options
		local n=0
		for ((m = k; m < wc; m++)); do
			case ${w[m]} in
			-r | --recipient | --sign | --passphrase-file | --fields | --format | --encoding | \
			--to | --output-encoding | -o | --output | --home) ((m++)) ;;
			-?*) ;;
			*) ((n++)) ;;
			esac
		done
		if [[ $cur == -* ]]; then
			if [[ $_spif_mode == decrypt ]]; then
				_spif_reply "$_spif_decrypt_opts" "$cur"
			else
				_spif_reply "$_spif_encrypt_opts -" "$cur"
			fi
		elif ((n == 0)); then
			_spif_files "$cur"
		fi
		;;
	vault)
		# cat ID [--reason TEXT] | ls [--json] | keys [--json]
		# | escrow ls [MONTH] | escrow destroyed MONTH [--note TEXT] [--sign KEY]
		local sub="" n=0
		for ((m = k; m < wc; m++)); do
			case ${w[m]} in
			--reason | --home | --note | --sign) ((m++)) ;;
			-*) ;;
			*)
				if [[ -z $sub ]]; then
					sub=${w[m]}
				else
					((n++))
				fi
				;;
			esac
		done
		case $sub in
		"")
			if [[ $cur == -* ]]; then
				_spif_reply "--home --help" "$cur"
			else
				_spif_reply "cat ls keys escrow" "$cur"
			fi
			;;
		cat)
			if [[ $cur == -* ]]; then
				_spif_reply "--reason --home --help" "$cur"
			elif ((n == 0)); then
				_spif_vault_ids "$cur" "$home"
			fi
			;;
		ls | keys)
			[[ $cur == -* ]] && _spif_reply "--json --home --help" "$cur" ;;
		escrow)
			if [[ $cur == -* ]]; then
				_spif_reply "--json --note --sign --home --help" "$cur"
			elif ((n == 0)); then
				_spif_reply "ls destroyed" "$cur"
			fi
			;;
		esac
		;;
	export)
		# SUB ARGS, or the export itself (options and file ids)
		local sub="" n=0
		for ((m = k; m < wc; m++)); do
			case ${w[m]} in
			--file | --purpose | -r | --recipient | --sign | --key | --fields | --drop | --format | \
			--to | --output-encoding | --to-org | --to-person | --basis | --medium | --seal | --due | \
			--reason | -o | --output | --received-by | --certificate | --incident | --since | --until | \
			--home | --passphrase-file | --subject-file | --note) ((m++)) ;;
			-*) ;;
			*)
				if [[ -z $sub ]]; then
					sub=${w[m]}
				else
					((n++))
				fi
				;;
			esac
		done
		local common="--home --help"
		case $sub in
		"")
			if [[ $cur == -* ]]; then
				_spif_reply "$_spif_export_opts" "$cur"
			else
				_spif_reply "$_spif_export_subs" "$cur"
			fi
			;;
		verify)
			if [[ $cur == -* ]]; then
				_spif_reply "--key --passphrase-file $common" "$cur"
			elif ((n == 0)); then
				_spif_files "$cur"
			fi
			;;
		ls) [[ $cur == -* ]] && _spif_reply "--outstanding --overdue --json $common" "$cur" ;;
		return | destroyed | lost | delivered)
			if [[ $cur == -* ]]; then
				case $sub in
				return) _spif_reply "--received-by --seal $common" "$cur" ;;
				destroyed) _spif_reply "--certificate $common" "$cur" ;;
				lost) _spif_reply "--reason $common" "$cur" ;;
				delivered) _spif_reply "--received-by --note $common" "$cur" ;;
				esac
			elif ((n == 0)); then
				_spif_export_ids "$cur" "$home" out
			elif [[ $sub == return ]] && ((n == 1)); then
				_spif_files "$cur"
			fi
			;;
		*)
			# file ids after --file
			if [[ $cur == -* ]]; then
				_spif_reply "$_spif_export_opts" "$cur"
			else
				_spif_ids "$cur" "$home"
			fi
			;;
		esac
		;;
	media)
		local sub="" n=0
		for ((m = k; m < wc; m++)); do
			case ${w[m]} in
			--kind | --location | --device | --reason | --home) ((m++)) ;;
			-*) ;;
			*)
				if [[ -z $sub ]]; then
					sub=${w[m]}
				else
					((n++))
				fi
				;;
			esac
		done
		case $sub in
		"")
			if [[ $cur == -* ]]; then
				_spif_reply "--home --help" "$cur"
			else
				_spif_reply "add ls retire" "$cur"
			fi
			;;
		add) [[ $cur == -* ]] && _spif_reply "--kind --location --device --home --help" "$cur" ;;
		ls) [[ $cur == -* ]] && _spif_reply "--json --home --help" "$cur" ;;
		retire)
			if [[ $cur == -* ]]; then
				_spif_reply "--reason --home --help" "$cur"
			elif ((n == 0)); then
				_spif_media_ids "$cur" "$home"
			fi
			;;
		esac
		;;
	incident)
		local sub="" n=0
		for ((m = k; m < wc; m++)); do
			case ${w[m]} in
			--summary | --file | --note | --home) ((m++)) ;;
			-*) ;;
			*)
				if [[ -z $sub ]]; then
					sub=${w[m]}
				else
					((n++))
				fi
				;;
			esac
		done
		case $sub in
		"")
			if [[ $cur == -* ]]; then
				_spif_reply "--home --help" "$cur"
			else
				_spif_reply "open note close ls show" "$cur"
			fi
			;;
		open) [[ $cur == -* ]] && _spif_reply "--summary --file --home --help" "$cur" ;;
		note | close)
			if [[ $cur == -* ]]; then
				_spif_reply "--note --home --help" "$cur"
			elif ((n == 0)); then
				_spif_incident_ids "$cur" "$home"
			fi
			;;
		ls) [[ $cur == -* ]] && _spif_reply "--all --json --home --help" "$cur" ;;
		show)
			if [[ $cur == -* ]]; then
				_spif_reply "--json --home --help" "$cur"
			elif ((n == 0)); then
				_spif_incident_ids "$cur" "$home"
			fi
			;;
		esac
		;;
	catalog)
		# find the subcommand (and cert's) and any --home after "catalog"
		local sub="" csub="" n=0
		for ((m = k; m < wc; m++)); do
			case ${w[m]} in
			--home) home=${w[m + 1]}; ((m++)) ;;
			--home=*) home=${w[m]#--home=} ;;
			--state | --file | --limit | -n | --format | -o | --output | --note | --sign | --keys | --sample | \
			--operator | --since | --until | --action | --reason | --checkpoint | --key | --append | \
			--ledger | --fiscal-year) ((m++)) ;;
			-*) ;;
			*)
				if [[ -z $sub ]]; then
					sub=${w[m]}
				elif [[ $sub == cert && -z $csub ]]; then
					csub=${w[m]}
				else
					((n++))
				fi
				;;
			esac
		done
		if [[ -z $sub ]]; then
			if [[ $cur == -* ]]; then
				_spif_reply "$_spif_catalog_opts" "$cur"
			else
				_spif_reply "ls show log verify check copy review report checkpoint key cert backup restore-test restore" "$cur"
			fi
			return 0
		fi
		case $sub in
		cert)
			case $csub in
			"")
				if [[ $cur == -* ]]; then
					_spif_reply "$_spif_cert_opts" "$cur"
				else
					_spif_reply "ls show export verify confirm cosign" "$cur"
				fi
				;;
			ls)
				[[ $cur == -* ]] && _spif_reply "--json $_spif_cert_opts" "$cur" ;;
			show | export | confirm | verify | cosign)
				if [[ $cur == -* ]]; then
					case $csub in
					cosign) _spif_reply "--sign $_spif_cert_opts" "$cur" ;;
					show) _spif_reply "--format -o --output $_spif_cert_opts" "$cur" ;;
					export) _spif_reply "-o --output $_spif_cert_opts" "$cur" ;;
					confirm) _spif_reply "--note --sign $_spif_cert_opts" "$cur" ;;
					verify) _spif_reply "--key $_spif_cert_opts" "$cur" ;;
					esac
				elif ((n == 0)) || [[ $csub == cosign ]]; then
					_spif_ids "$cur" "$home" cert
					if [[ $csub == verify ]]; then
						local -a ids=("${COMPREPLY[@]}")
						COMPREPLY=()
						if declare -F _filedir >/dev/null; then
							_filedir json
						else
							compopt -o filenames 2>/dev/null
							local IFS=$'\n'
							COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
						fi
						COMPREPLY+=("${ids[@]}")
					fi
				fi
				;;
			esac
			;;
		ls)
			[[ $cur == -* ]] && _spif_reply "--state $_spif_catalog_opts" "$cur" ;;
		show)
			if [[ $cur == -* ]]; then
				_spif_reply "$_spif_catalog_opts" "$cur"
			elif ((n == 0)); then
				_spif_ids "$cur" "$home"
			fi
			;;
		log)
			[[ $cur == -* ]] && _spif_reply "--file --operator --since --until --action --limit $_spif_catalog_opts" "$cur" ;;
		review)
			[[ $cur == -* ]] && _spif_reply "--since --until $_spif_catalog_opts" "$cur" ;;
		report)
			[[ $cur == -* ]] && _spif_reply "--ledger --fiscal-year --format -o --output --home --help" "$cur" ;;
		check)
			[[ $cur == -* ]] && _spif_reply "$_spif_catalog_opts" "$cur" ;;
		verify)
			[[ $cur == -* ]] && _spif_reply "--checkpoint --key $_spif_catalog_opts" "$cur" ;;
		checkpoint)
			if [[ $cur == -* ]]; then
				_spif_reply "--append --syslog --json --home --help" "$cur"
			elif ((n == 0)); then
				_spif_reply "ls" "$cur"
			fi
			;;
		key)
			if [[ $cur == -* ]]; then
				_spif_reply "--fingerprint --home --help" "$cur"
			elif ((n == 0)); then
				_spif_reply "export" "$cur"
			fi
			;;
		copy)
			if [[ $cur == -* ]]; then
				_spif_reply "--reason --home --help" "$cur"
			elif ((n == 0)); then
				_spif_reply "lost missing" "$cur"
			fi
			;;
		backup)
			if [[ $cur == -* ]]; then
				_spif_reply "-o --output $_spif_catalog_opts" "$cur"
			elif [[ $prev == -o || $prev == --output ]]; then
				_spif_files "$cur" dirs
			fi
			;;
		restore-test | restore)
			if [[ $cur == -* ]]; then
				[[ $sub == restore ]] && _spif_reply "--keys $_spif_catalog_opts" "$cur" ||
					_spif_reply "--sample $_spif_catalog_opts" "$cur"
			else
				_spif_files "$cur" dirs
			fi
			;;
		esac
		;;
	esac
	return 0
}

complete -F _spif spif spif-ingest spif-catalog spif-shred spif-redact spif-vault spif-encrypt spif-retain spif-operator spif-export spif-media spif-incident
