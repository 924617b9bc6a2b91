#!/usr/bin/env bash
# Early media: the callee answers 183 with SDP and plays 1 s of RTP before its 200. mgwd passes
# the 183 on with its own SDP, and the caller receives that RTP from mgwd's A-leg address,
# before the 200 reaches it (tshark on the tap for RTP and on lo for SIP, one clock).
source "$(dirname "$0")/lib.sh"
mgw_setup b2b_early 'routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );'

mkpcap "$WORK/caller.pcap" 8 25 0x11
mkpcap "$WORK/callee.pcap" 8 50 0x33
ip netns exec "$NS" tshark -q -i lo -f "udp port 5061" -w "$WORK/sip.pcap" >"$WORK/tshark-lo.log" 2>&1 &
SIPCAP=$!
(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/b2b_callee_early.xml" -key codec 8 \
	-i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" -mp 7000 -nostdin -m 1 -d 1500 -timeout 30s \
	-timeout_error >"$WORK/callee.out" 2>&1) &
CALLEE=$!
capture_start early
sipp_run caller -sf "$SCEN/b2b_caller.xml" -s 1234 -key codec 8 -mp 6000 -d 1000 -m 1 \
	-trace_msg -message_file "$WORK/caller.msg" || fail "caller: $(tail -30 "$WORK/caller.out")"
wait "$CALLEE" || fail "callee: $(tail -30 "$WORK/callee.out")"
capture_stop
kill -TERM "$SIPCAP"; wait "$SIPCAP" || true
grep -q "SIP/2.0 183" "$WORK/caller.msg" || fail "the caller got no 183"
a_port=$(awk '/SIP\/2.0 183/{s=1} s && /m=audio/{print $2; exit}' "$WORK/caller.msg")

ok_at=$(tshark -r "$WORK/sip.pcap" -Y 'sip.Status-Code == 200 && sip.CSeq.method == "INVITE"' \
	-T fields -e frame.time_epoch 2>/dev/null | head -1)
[ -n "$ok_at" ] || fail "no 200 for the INVITE on lo"
tshark -r "$WORK/early.pcap" -d "udp.port==10000-20000,rtp" -Y rtp -T fields -e frame.time_epoch \
	-e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e rtp.payload >"$WORK/rtp.txt" 2>/dev/null
python3 - "$WORK/rtp.txt" "$TAP_ADDR" "$MEDIA_IP" "$a_port" "$ok_at" <<'PY' || fail "early media"
import sys
rows = [l.split('\t') for l in open(sys.argv[1]).read().splitlines() if l]
host, mgw, a, ok_at = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
early = lambda r: r[5].replace(':', '')[:2] == '33'
sent = [r for r in rows if (r[1], r[2]) == (host, '7000') and early(r)]
got = [r for r in rows if (r[3], r[4]) == (host, '6000') and early(r)]
before = [r for r in got if float(r[0]) < ok_at]
wrong = [r for r in got if (r[1], r[2]) != (mgw, a)]
print(f"--- early RTP sent by the callee {len(sent)}, received by the caller {len(got)}, "
      f"{len(before)} of them before the 200, {len(wrong)} not from {mgw}:{a}")
sys.exit(0 if len(sent) >= 45 and len(before) * 100 >= len(sent) * 95 and not wrong else 1)
PY
assert_clean
