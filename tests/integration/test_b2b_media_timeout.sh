#!/usr/bin/env bash
# media.timeout_s = 3: a routed call stays up while RTP flows (g711a.pcap, ~7 s each way) and is
# ended 3 s after it stops, with a BYE to both legs (each SIPp end answers it) and
# "media timeout" as the reason in the log and the call record. Then a call whose hold
# (re-INVITE a=sendonly) the callee rejects 488 is not on hold: with no RTP at all, the same
# 3 s (not media.hold_timeout_s) end it.
source "$(dirname "$0")/lib.sh"
mgw_setup b2b_timeout 'media = { timeout_s = 3; };
routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );'
ln -s /usr/share/sip-tester/g711a.pcap "$WORK/caller.pcap"
ln -s /usr/share/sip-tester/g711a.pcap "$WORK/callee.pcap"

(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/b2b_callee.xml" -key codec 8 \
	-i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" -mp 7000 -nostdin -m 1 -timeout 30s -timeout_error \
	>"$WORK/callee.out" 2>&1) &
CALLEE=$!
capture_start timeout
sipp_run caller -sf "$SCEN/b2b_caller_wait_bye.xml" -s 1234 -key codec 8 -mp 6000 -m 1 ||
	fail "caller got no BYE: $(tail -30 "$WORK/caller.out")"
wait "$CALLEE" || fail "callee got no BYE: $(tail -30 "$WORK/callee.out")"
capture_stop
last_rtp=$(tshark -r "$WORK/timeout.pcap" -T fields -e frame.time_epoch 2>/dev/null | tail -1)
[ -n "$last_rtp" ] || fail "no RTP on the tap"
grep -q "ended .*: media timeout" "$WORK/mgwd.log" || fail "no media timeout in the log"
grep '"kind":"b2bua"' "$WORK/mgwd.log" | sed 's/.*cdr: //' >"$WORK/cdr.jsonl"
python3 - "$WORK/cdr.jsonl" "$last_rtp" <<'PY' || fail "call record: $(cat "$WORK/cdr.jsonl")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(recs) == 1, recs
r = recs[0]
import datetime
end = datetime.datetime.strptime(r['time'], '%Y-%m-%dT%H:%M:%S.%fZ')
end = end.replace(tzinfo=datetime.timezone.utc).timestamp()
silent = end - float(sys.argv[2])
print(f"--- ended after {r['duration_ms']} ms, {silent:.2f} s after the last RTP: {r['end_reason']}")
assert r['end_reason'] == 'media timeout', r
# 3 s of silence, checked once a second (so up to 2 s late); RTP flowed for most of the call
assert 2.9 <= silent <= 5.2 and r['duration_ms'] >= 6000, r
PY
assert_clean

note "a rejected hold leaves the call off hold"
(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/b2b_callee_reject_hold.xml" \
	-i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" -mp 7000 -nostdin -m 1 -timeout 15s -timeout_error \
	>"$WORK/callee2.out" 2>&1) &
CALLEE=$!
sipp_run caller2 -sf "$SCEN/b2b_caller_hold_rejected.xml" -s 1234 -mp 6000 -m 1 -timeout 15s ||
	fail "caller got no BYE: $(tail -30 "$WORK/caller2.out")"
wait "$CALLEE" || fail "callee got no BYE: $(tail -30 "$WORK/callee2.out")"
grep '"kind":"b2bua"' "$WORK/mgwd.log" | sed 's/.*cdr: //' | tail -1 >"$WORK/cdr2.jsonl"
python3 - "$WORK/cdr2.jsonl" <<'PY' || fail "call record: $(cat "$WORK/cdr2.jsonl")"
import json, sys
r = json.loads(open(sys.argv[1]).readline())
print(f"--- ended after {r['duration_ms']} ms: {r['end_reason']}")
assert r['end_reason'] == 'media timeout' and r['duration_ms'] <= 5500, r
PY
assert_clean
