#!/usr/bin/env bash
# The caller cancels while mgwd's echo application rings: 200 for the CANCEL, 487 for the
# INVITE, and the call, its port and its stream are gone.
source "$(dirname "$0")/lib.sh"
mgw_setup cancel 'sip = { answer_delay_ms = 3000; };'

sipp_run cancel -sf "$SCEN/cancel.xml" -m 1 || fail "SIPp scenario failed: $(tail -30 "$WORK/cancel.out")"
grep -q "ended .*cancelled" "$WORK/mgwd.log" || fail "mgwd did not log the cancelled call"
assert_clean
