#!/usr/bin/env bash
# Routed calls that do not simply connect:
# - the caller cancels while the callee rings: the caller gets 200 for its CANCEL and 487, the
#   callee gets a CANCEL (answered 200 and 487);
# - the first destination is busy (486): mgwd fails over to the second, which answers;
# - the only destination is busy: the caller gets the 486, after both legs took media ports
#   (the callee's INVITE carries an SDP with a port from mgwd's pool);
# - no route matches the called number: 404.
# After each, no call is left and every port is back in the pool.
source "$(dirname "$0")/lib.sh"
mgw_setup b2b_setup 'routes = (
  { name = "one"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); },
  { name = "two"; prefix = "2"; destinations = ( "127.0.0.1:5070", "udp:127.0.0.1:5072" ); }
);'
ln -s /usr/share/sip-tester/g711a.pcap "$WORK/caller.pcap"
ln -s /usr/share/sip-tester/g711a.pcap "$WORK/callee.pcap"

# callee NAME PORT MEDIA-PORT SCENARIO: a SIPp callee in the background, its PID in $!
callee() {
	(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/$4" -key codec 8 -i 127.0.0.1 \
		-p "$2" -mi "$TAP_ADDR" -mp "$3" -nostdin -m 1 -timeout 20s -timeout_error \
		>"$WORK/$1.out" 2>&1) &
}

note "caller cancels while the callee rings"
callee ringing 5070 7000 b2b_callee_ring.xml
RINGING=$!
sipp_run cancel -sf "$SCEN/b2b_caller_cancel.xml" -s 1234 -m 1 ||
	fail "caller's CANCEL: $(tail -30 "$WORK/cancel.out")"
wait "$RINGING" || fail "callee was not cancelled: $(tail -30 "$WORK/ringing.out")"
grep -q "ended .*: cancelled by caller" "$WORK/mgwd.log" || fail "mgwd did not log the cancel"
assert_clean

note "busy first destination, failover to the second"
callee busy 5070 7000 b2b_callee_busy.xml
BUSY=$!
callee second 5072 7100 b2b_callee.xml
SECOND=$!
sipp_run failover -sf "$SCEN/b2b_caller.xml" -s 2345 -key codec 8 -mp 6000 -d 1000 -m 1 ||
	fail "call after failover: $(tail -30 "$WORK/failover.out")"
wait "$BUSY" || fail "first callee: $(tail -30 "$WORK/busy.out")"
wait "$SECOND" || fail "second callee did not get the call: $(tail -30 "$WORK/second.out")"
grep -q "127.0.0.1:5070 answered 486" "$WORK/mgwd.log" || fail "mgwd did not log the 486"
grep -q "answered by udp:127.0.0.1:5072" "$WORK/mgwd.log" ||
	grep -q "answered by 127.0.0.1:5072" "$WORK/mgwd.log" || fail "the second callee did not answer"
assert_clean

note "the only destination busy: 486 to the caller, its ports and the B leg's released"
(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/b2b_callee_busy.xml" -i 127.0.0.1 \
	-p 5070 -mi "$TAP_ADDR" -nostdin -m 1 -timeout 20s -timeout_error -trace_msg \
	-message_file "$WORK/busy_only.msg" >"$WORK/busy_only.out" 2>&1) &
BUSY_ONLY=$!
sipp_run busy_only_caller -sf "$SCEN/b2b_caller_486.xml" -s 1777 -m 1 ||
	fail "no 486 for a busy callee: $(tail -30 "$WORK/busy_only_caller.out")"
wait "$BUSY_ONLY" || fail "busy callee: $(tail -30 "$WORK/busy_only.out")"
port=$(awk '/^m=audio/ { print $2; exit }' "$WORK/busy_only.msg")
[ -n "$port" ] && [ "$port" -ge 10000 ] && [ "$port" -le 20000 ] ||
	fail "the callee's INVITE had no media port from mgwd's pool: $(cat "$WORK/busy_only.msg")"
note "B leg offered port $port"
assert_clean

note "no route for the number: 404"
sipp_run noroute -sf "$SCEN/b2b_caller_404.xml" -s 999 -m 1 ||
	fail "no 404 for an unrouted number: $(tail -30 "$WORK/noroute.out")"
assert_clean
