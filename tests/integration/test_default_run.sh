#!/usr/bin/env bash
# mgwd with no arguments, as `make run` starts it, answers the README's SIPp call: the tap's
# host side gets 198.18.0.1/24, SIP answers on 127.0.0.1:5060, the control socket sits at
# /run/mgw/mgwd.sock, and SIGTERM removes the tap again. The media is checked on the tap as
# the caller sees it: every packet SIPp sends to the port in mgwd's SDP comes back from that
# port to the address and port in SIPp's own SDP; besides, mgwd sends its own RTCP reports
# from the RTCP port next to it to the caller's, and nothing anywhere else.
source "$(dirname "$0")/lib.sh"
mgw_setup_default default

nsx ip -4 addr show dev mgw0 | grep -q "inet 198.18.0.1/24" || fail "host side of mgw0 not configured"
[ "$(nsx cat /proc/sys/net/ipv6/conf/mgw0/disable_ipv6)" = 1 ] || fail "IPv6 left on mgw0"
nsx ping -c 2 -W 2 "$MEDIA_IP" >/dev/null || fail "media address does not answer ping"

# The media as the caller sees it on the tap, and the SIP on the loopback for the SDP.
capture_start media
capture_start sip lo "udp port 5060"
# The README's command, word for word but for the output redirection.
(cd "$MGW_SRC" && nsx sipp -sf tools/sipp/echo-call.xml -p 5070 -mi 198.18.0.1 -m 1 127.0.0.1:5060 \
	-nostdin -timeout 60s -timeout_error >"$WORK/readme.out" 2>&1) ||
	fail "the README's SIPp call failed: $(tail -30 "$WORK/readme.out")"
capture_stop
grep -q "media from 198.18.0.1" "$WORK/mgwd.log" || fail "no RTP reached mgwd"
grep -qE "ended .* rtp in [1-9][0-9]* out [1-9]" "$WORK/mgwd.log" || fail "no RTP echoed"

# Where the caller said it receives (its INVITE) and where mgwd said it does (its 200).
sdp_media "$WORK/sip.pcap" >"$WORK/sdp.txt"
peer=$(sdp_of "$WORK/sdp.txt" 5070 5060 INVITE)
mgw=$(sdp_of "$WORK/sdp.txt" 5060 5070 200)
peer_ip=${peer%:*} peer_port=${peer##*:} mgw_ip=${mgw%:*} mgw_port=${mgw##*:}
[ "$peer_ip" = "$TAP_ADDR" ] && [ -n "$peer_port" ] ||
	fail "no SDP offer from the caller in the capture: $(cat "$WORK/sdp.txt")"
[ "$mgw_ip" = "$MEDIA_IP" ] && [ -n "$mgw_port" ] ||
	fail "mgwd's 200 does not offer media on $MEDIA_IP: $(cat "$WORK/sdp.txt")"
note "SDP: caller $peer_ip:$peer_port, mgwd $mgw_ip:$mgw_port"

# SIPp plays every packet of its sample to mgwd's port, and gets each one back from there.
sent=$(tshark -r /usr/share/sip-tester/g711a.pcap 2>/dev/null | wc -l)
udp_flows "$WORK/media.pcap" >"$WORK/flows.txt"
assert_forwarded "$WORK/flows.txt" "echo" "$peer_ip:$peer_port" "$mgw_ip:$mgw_port" \
	"$mgw_ip:$mgw_port" "$peer_ip:$peer_port" $((sent * 95 / 100))
[ "$(flow_count "$WORK/flows.txt" "$peer_ip:$peer_port" "$mgw_ip:$mgw_port")" -le "$sent" ] ||
	fail "more packets reached mgwd than SIPp sent ($sent): $(cat "$WORK/flows.txt")"
rtcp="$mgw_ip:$((mgw_port + 1)) $peer_ip:$((peer_port + 1))"
assert_only_flows "$WORK/flows.txt" "$mgw_ip:$mgw_port $peer_ip:$peer_port" "$rtcp"
[ "$(flow_count "$WORK/flows.txt" "${rtcp% *}" "${rtcp#* }")" -ge 1 ] ||
	fail "no RTCP report from mgwd during the call: $(cat "$WORK/flows.txt")"
assert_clean

kill -TERM "$MGWD_PID"
wait "$MGWD_PID" || fail "mgwd exited with $? on SIGTERM"
MGWD_PID=
nsx ip link show mgw0 >/dev/null 2>&1 && fail "mgw0 still there after shutdown"
note "SIGTERM: clean exit, tap removed"
