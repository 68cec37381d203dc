#!/usr/bin/env bash
# expect.sh STATUS COMMAND [ARGS...] -- [CHECK...]
#
# Runs COMMAND ARGS (stdout and stderr together), then requires:
#   - its exit status to be STATUS;
#   - every CHECK to hold, in the output:
#       REGEX        at least one line matches (grep -E)
#       !REGEX       no line matches
#       N*REGEX      at least N lines match
# On failure it prints the command, what failed and the output.
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 STATUS COMMAND [ARGS...] -- [CHECK...]" >&2
    exit 2
fi
want=$1
shift
cmd=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    cmd+=("$1")
    shift
done
[ $# -gt 0 ] && shift # the --

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"${cmd[@]}" >"$out" 2>&1 </dev/null
got=$?

fails=0
say() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
if [ "$got" != "$want" ]; then
    say "exit status $got, expected $want"
fi
for c in "$@"; do
    case $c in
    !*)
        re=${c#!}
        if grep -Eq -- "$re" "$out"; then
            say "output matches /$re/ but must not:"
            grep -En -- "$re" "$out" | head -5
        fi
        ;;
    [0-9]\**|[0-9][0-9]\**)
        n=${c%%\**}
        re=${c#*\*}
        k=$(grep -Ec -- "$re" "$out")
        if [ "$k" -lt "$n" ]; then
            say "$k lines match /$re/, expected at least $n"
        fi
        ;;
    *)
        if ! grep -Eq -- "$c" "$out"; then
            say "no line matches /$c/"
        fi
        ;;
    esac
done

if [ "$fails" -gt 0 ]; then
    echo "---- command: ${cmd[*]}"
    echo "---- output (first 200 lines):"
    head -200 "$out"
    exit 1
fi
echo "ok: ${cmd[*]} (exit $got, ${#} checks)"
exit 0
