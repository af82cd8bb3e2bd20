#!/bin/sh
# tests/compat.sh FOLIO_REPLAY COMPAT_DIR - ctest fuzz.compat: every binary
# input under COMPAT_DIR/<version>/<target>/ (corpora/compat: fuzz_ops,
# fuzz_sched) decodes, with this build's folio-replay --to-text, to exactly
# the program recorded beside it in NAME.txt.  So an input written under
# any released format version keeps its meaning (fuzz/prog.h: the rules).
#
# Fails naming the file and its first differing line; also on an input
# without its NAME.txt, a NAME.txt without its input, a target directory
# it does not know, or no input at all.  Exit 0 pass, 1 fail, 2 usage.
set -u

case ${1:-} in
-h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -d "$2" ]; then
	echo "usage: compat.sh FOLIO_REPLAY COMPAT_DIR" >&2
	exit 2
fi
replay=$1 root=$2
got=$(mktemp "${TMPDIR:-/tmp}/compat.XXXXXX") || exit 2
trap 'rm -f "$got"' EXIT
nfail=0 nops=0 nsched=0

fail() {
	echo "compat: FAIL: $*"
	nfail=$((nfail + 1))
}

# The first line where decoded output $2 differs from expected file $1.
first_diff() {
	awk -v got="$2" '
	{
		if ((getline l < got) <= 0) {
			printf "line %d: expected \"%s\", decoded: the end of the output\n", NR, $0
			bad = 1
			exit
		}
		if (l != $0) {
			printf "line %d: expected \"%s\", decoded \"%s\"\n", NR, $0, l
			bad = 1
			exit
		}
	}
	END {
		if (bad)
			exit
		if ((getline l < got) > 0)
			printf "line %d: expected the end of the file, decoded \"%s\"\n", NR + 1, l
		else
			printf "the last line ends differently (a newline)\n"
	}' "$1"
}

for vdir in "$root"/*/; do
	[ -d "$vdir" ] || continue
	for tdir in "$vdir"*/; do
		[ -d "$tdir" ] || continue
		target=$(basename "$tdir")
		case $target in
		fuzz_ops) mode=--binary ;;
		fuzz_sched) mode=--sched ;;
		*) fail "$tdir: not a binary fuzz target (fuzz_ops, fuzz_sched)"; continue ;;
		esac
		for f in "$tdir".* "$tdir"*; do
			[ -e "$f" ] || continue
			case $(basename "$f") in
			.|..) continue ;;
			esac
			if [ -d "$f" ]; then
				fail "$f: a directory (inputs and NAME.txt files only)"
				continue
			fi
			case $f in
			*.txt)
				[ -e "${f%.txt}" ] || fail "$f: no input ${f%.txt}"
				continue ;;
			esac
			if [ ! -f "$f.txt" ]; then
				fail "$f: no $(basename "$f").txt beside it (folio-replay $mode --to-text $f.txt $f)"
				continue
			fi
			if ! "$replay" --quiet $mode --to-text - "$f" >"$got"; then
				fail "$f: folio-replay $mode --to-text failed"
				continue
			fi
			if ! cmp -s "$f.txt" "$got"; then
				fail "$f: does not decode to $(basename "$f").txt: $(first_diff "$f.txt" "$got")"
				continue
			fi
			if [ "$target" = fuzz_ops ]; then
				nops=$((nops + 1))
			else
				nsched=$((nsched + 1))
			fi
		done
	done
done
[ $((nops + nsched)) -gt 0 ] || fail "no inputs under $root/*/fuzz_ops or fuzz_sched"
if [ $nfail -gt 0 ]; then
	echo "compat: FAIL: $nfail problems (a released format's input decodes to another program: see fuzz/prog.h's rules)"
	exit 1
fi
echo "compat: PASS: $nops fuzz_ops and $nsched fuzz_sched inputs decode as recorded"
