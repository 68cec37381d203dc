#!/bin/sh
# pd_doc_counts: the table "Scripts per state" in docs/packetdrill.md must
# match the scripts in tests/pkt/<group>/. Usage: pd_doc_counts.sh SRCDIR
src=$1 doc=$1/docs/packetdrill.md rc=0 total=0
rows=$(sed -n '/^## Scripts per state/,$p' "$doc" |
    sed -n 's/^| \([a-z0-9-]*\) | \([0-9]*\) |$/\1 \2/p')
[ -n "$rows" ] || { echo "pd_doc_counts: no table in $doc"; exit 1; }
listed=""
while read -r group n; do
    have=$(find "$src/tests/pkt/$group" -maxdepth 1 -name '*.pkt' 2>/dev/null | wc -l)
    if [ "$have" -ne "$n" ]; then
        echo "pd_doc_counts: $group: docs say $n, tests/pkt/$group has $have"
        rc=1
    fi
    total=$((total + have))
    listed="$listed $group"
done <<EOT
$rows
EOT
for d in "$src"/tests/pkt/*/; do
    g=$(basename "$d")
    ls "$d"*.pkt >/dev/null 2>&1 || continue
    case " $listed pending broken " in
    *" $g "*) ;;
    *) echo "pd_doc_counts: group $g is not in the table"; rc=1 ;;
    esac
done
want=$(sed -n 's/^| \*\*total (run by ctest)\*\* | \*\*\([0-9]*\)\*\* |$/\1/p' "$doc")
if [ "$want" != "$total" ]; then
    echo "pd_doc_counts: total: docs say $want, the groups hold $total"
    rc=1
fi
for g in pending broken; do
    n=$(sed -n "s/^| $g ([^|]*) | \([0-9]*\) |\$/\1/p" "$doc")
    have=$(find "$src/tests/pkt/$g" -maxdepth 1 -name '*.pkt' 2>/dev/null | wc -l)
    if [ "$n" != "$have" ]; then
        echo "pd_doc_counts: $g: docs say $n, tests/pkt/$g has $have"
        rc=1
    fi
done
[ $rc -eq 0 ] && echo "pd_doc_counts: $total scripts, table matches"
exit $rc
