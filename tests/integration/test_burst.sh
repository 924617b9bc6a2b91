#!/usr/bin/env bash
# A burst of 50 calls at 50 calls/s, each held one second: no failed call, 50 distinct calls
# in the log, and afterwards every call, port and stream released.
source "$(dirname "$0")/lib.sh"
mgw_setup burst

sipp_run burst -sn uac -r 50 -m 50 -d 1000 || fail "SIPp reported failed calls: $(tail -40 "$WORK/burst.out")"
created=$(grep -c "call: new " "$WORK/mgwd.log")
ended=$(grep -c "call: ended .*BYE from caller" "$WORK/mgwd.log")
note "calls created $created, ended by BYE $ended"
[ "$created" -eq 50 ] || fail "expected 50 calls, mgwd created $created"
[ "$ended" -eq 50 ] || fail "expected 50 BYEs, mgwd ended $ended"
assert_clean
