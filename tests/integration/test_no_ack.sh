#!/usr/bin/env bash
# A caller that never ACKs the 200: mgwd retransmits the 200 (T1, 2T1, ... up to T2) and,
# 64*T1 after answering, ends the call and gives its port and stream back.
source "$(dirname "$0")/lib.sh"
mgw_setup noack 'sip = { t1_ms = 100; };'

ip netns exec "$NS" tshark -q -i lo -f "udp port 5061" -w "$WORK/sip.pcap" >"$WORK/tshark.log" 2>&1 &
TSHARK_PID=$!
CLEANUP_EXTRA='kill $TSHARK_PID 2>/dev/null; wait $TSHARK_PID 2>/dev/null'
for _ in $(seq 100); do grep -q "Capturing on" "$WORK/tshark.log" && break; sleep 0.1; done

sipp_run noack -sf "$SCEN/no_ack.xml" -m 1 || fail "SIPp scenario failed: $(tail -30 "$WORK/noack.out")"
[ "$(jget status "r['calls']")" = 1 ] || fail "the unacknowledged call should still be there"
note "call waiting for its ACK: $(jget status "r['calls']") call(s)"
wait_status "r['calls'] == 0" 15 || fail "call not ended 64*T1 after the 200"
grep -q "ended .*no ACK" "$WORK/mgwd.log" || fail "mgwd did not log the missing ACK"
capture_stop
oks=$(tshark -r "$WORK/sip.pcap" -Y 'sip.Status-Code == 200' 2>/dev/null | wc -l)
note "200 OK sent $oks times"
[ "$oks" -ge 4 ] || fail "the 200 was not retransmitted ($oks copies)"
assert_clean
