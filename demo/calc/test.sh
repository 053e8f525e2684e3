#!/bin/sh
# The calculator's tests: prints one line per failure, exits 1 if any failed.
. ./calc.sh
failed=0
check() { got=$($1 $2 $3); [ "$got" = "$4" ] || { echo "FAIL: $1 $2 $3 = $got, want $4"; failed=1; }; }
check add 2 3 5
check sub 7 4 3
check mul 6 7 42
[ $failed = 0 ] && echo "all tests passed"
exit $failed
