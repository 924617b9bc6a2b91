#!/usr/bin/env bash
# A routed call through the B2BUA: SIPp calls 1234, mgwd relays it to a SIPp callee on
# 127.0.0.1:5070, and both ends play their own RTP stream. tshark on the tap counts each
# direction: at least 95% of what one end sent reaches the other, and every packet an end
# receives comes from mgwd's address for that leg (the port mgwd's SDP gave it). The call record
# holds one line with both Call-IDs and the end reason. Afterwards nothing is left.
source "$(dirname "$0")/lib.sh"
mgw_setup b2b_basic 'routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );'
printf 'cdr = { file = "%s"; };\n' "$WORK/cdr.jsonl" >>"$WORK/mgwd.conf"
mgwctl reload >/dev/null || fail "reload with a cdr file failed"

mkpcap "$WORK/caller.pcap" 8 150 0x11
mkpcap "$WORK/callee.pcap" 8 150 0x22
(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/b2b_callee.xml" -key codec 8 \
	-i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" -mp 7000 -nostdin -m 1 -timeout 30s -timeout_error \
	-trace_msg -message_file "$WORK/callee.msg" >"$WORK/callee.out" 2>&1) &
CALLEE=$!
capture_start b2b
sipp_run caller -sf "$SCEN/b2b_caller.xml" -s 1234 -key codec 8 -mp 6000 -d 4000 -m 1 \
	-trace_msg -message_file "$WORK/caller.msg" ||
	fail "caller: $(tail -30 "$WORK/caller.out")"
wait "$CALLEE" || fail "callee: $(tail -30 "$WORK/callee.out")"
capture_stop

# mgwd's media port in the SDP each end received (200 to the caller, INVITE to the callee)
a_port=$(awk '/SIP\/2.0 200 OK/{s=1} s && /m=audio/{print $2; exit}' "$WORK/caller.msg")
b_port=$(awk '/INVITE sip:/{s=1} s && /m=audio/{print $2; exit}' "$WORK/callee.msg")
note "mgwd's A-leg port $a_port, B-leg port $b_port"
[ -n "$a_port" ] && [ -n "$b_port" ] && [ "$a_port" != "$b_port" ] || fail "bad SDP ports"

tshark -r "$WORK/b2b.pcap" -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport \
	>"$WORK/flows.txt" 2>/dev/null
python3 - "$WORK/flows.txt" "$TAP_ADDR" "$MEDIA_IP" "$a_port" "$b_port" <<'PY' || fail "RTP counts"
import sys
rows = [l.split('\t') for l in open(sys.argv[1]).read().splitlines() if l]
host, mgw, a, b = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
caller, callee = (host, '6000'), (host, '7000')
def count(src, dst):
    return sum(1 for r in rows if (r[0], r[1]) == src and (r[2], r[3]) == dst)
def received(dst):
    return [(r[0], r[1]) for r in rows if (r[2], r[3]) == dst]
ok = True
for name, src, leg_in, dst, leg_out in (('caller->callee', caller, (mgw, a), callee, (mgw, b)),
                                       ('callee->caller', callee, (mgw, b), caller, (mgw, a))):
    sent, got = count(src, leg_in), received(dst)
    wrong = [s for s in got if s != leg_out]
    print(f"--- {name}: sent {sent}, received {len(got)}, from a wrong address {len(wrong)}")
    ok &= sent >= 140 and len(got) * 100 >= sent * 95 and not wrong
sys.exit(0 if ok else 1)
PY

[ "$(wc -l <"$WORK/cdr.jsonl")" -eq 1 ] || fail "expected one call record: $(cat "$WORK/cdr.jsonl")"
a_cid=$(tr -d '\r' <"$WORK/caller.msg" | awk '/^Call-ID:/{print $2; exit}')
b_cid=$(tr -d '\r' <"$WORK/callee.msg" | awk '/^Call-ID:/{print $2; exit}')
python3 - "$WORK/cdr.jsonl" "$a_cid" "$b_cid" <<'PY' || fail "call record: $(cat "$WORK/cdr.jsonl")"
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r['call_id_a'] == sys.argv[2] and r['call_id_b'] == sys.argv[3], r
assert r['call_id_a'] != r['call_id_b'] and r['end_reason'] == 'BYE from caller', r
PY
assert_clean
