#!/usr/bin/env bash
# The callee hangs up a routed call: mgwd answers its BYE 200, sends BYE to the caller (which
# answers 200), logs the end as the callee's, and releases both legs.
source "$(dirname "$0")/lib.sh"
mgw_setup b2b_hangup 'routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );'
ln -s /usr/share/sip-tester/g711a.pcap "$WORK/caller.pcap"
ln -s /usr/share/sip-tester/g711a.pcap "$WORK/callee.pcap"

(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/b2b_callee_bye.xml" -key codec 8 \
	-i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" -mp 7000 -nostdin -m 1 -d 1500 -timeout 30s \
	-timeout_error >"$WORK/callee.out" 2>&1) &
CALLEE=$!
sipp_run caller -sf "$SCEN/b2b_caller_wait_bye.xml" -s 1234 -key codec 8 -mp 6000 -m 1 ||
	fail "caller did not get a BYE it could answer: $(tail -30 "$WORK/caller.out")"
wait "$CALLEE" || fail "callee's BYE failed: $(tail -30 "$WORK/callee.out")"
grep -q "ended .*: BYE from callee" "$WORK/mgwd.log" || fail "mgwd did not log the callee's BYE"
assert_clean
