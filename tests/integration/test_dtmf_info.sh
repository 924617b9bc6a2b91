#!/usr/bin/env bash
# SIP INFO -> RFC 4733 in the B2BUA. A SIPp caller that took no telephone-event sends its
# digits as SIP INFO (application/dtmf-relay) to a callee that took telephone-event: mgwd
# answers each INFO itself and its player sends the digit to the callee as RFC 4733 events
# (the callee's payload type, three end packets each), in order, none extra, one source whose
# sequence goes on from digit to digit; the callee gets no INFO; the caller's audio keeps
# flowing to the callee around the digits and is held while a digit plays.
source "$(dirname "$0")/lib.sh"
mgw_setup dtmf-info 'routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );
log = { level = "info"; };'

mkpcap "$WORK/caller.pcap" 0 150 0x2a
sipp_callee callee 7000 -sf "$SCEN/dtmf_callee.xml" -trace_msg -message_file "$WORK/callee.msg"
capture_start info
sipp_run caller -sf "$SCEN/dtmf_info_caller.xml" -s 1234 -mp 6000 -d 500 -m 1 ||
	fail "caller: $(tail -30 "$WORK/caller.out")"
wait "$CALLEE" || fail "callee: $(tail -30 "$WORK/callee.out")"
capture_stop
! grep -q "^INFO " "$WORK/callee.msg" || fail "an INFO reached the callee"
n=$(grep -c "from the caller's INFO played as RFC 4733" "$WORK/mgwd.log")
[ "$n" -eq 3 ] || fail "$n INFO digits played, want 3"
bleg=$(tshark -r "$WORK/info.pcap" -Y "udp.dstport == 7000 and ip.src == $MEDIA_IP" -T fields \
	-e udp.srcport 2>/dev/null | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
[ -n "$bleg" ] || fail "nothing reached the callee's media port"
python3 "$MGW_SRC/tests/integration/rtpaudio.py" "$WORK/info.pcap" "$MEDIA_IP:$bleg" \
	"$TAP_ADDR:7000" held=0x2a seq dtmf=42# || fail "the digits as the callee heard them"
assert_clean
