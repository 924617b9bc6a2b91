#!/usr/bin/env bash
# A real SIP user agent through the B2BUA: baresip calls sip:1234 via mgwd, which routes it
# (prefix "1") to a SIPp callee on 127.0.0.1:5070 that echoes RTP. The call must be answered,
# RTP must flow both ways through mgw on both legs, and afterwards everything is released.
# The media is checked on the tap as the peers see it, between the addresses and ports the
# SDP on the wire names: baresip <-> mgwd's leg A, mgwd's leg B <-> the callee.
# baresip runs headless: a config dir of its own, audio from a WAV file (aufile) and played
# into an aubridge device (no sound card), media bound to the tap's host side 198.18.0.1.
source "$(dirname "$0")/lib.sh"
command -v baresip >/dev/null || fail "baresip not installed (tools/deps.sh installs it)"
BARESIP_MODS=/usr/lib/baresip/modules
[ -f "$BARESIP_MODS/aufile.so" ] || fail "baresip aufile module missing in $BARESIP_MODS"

mgw_setup b2b-baresip 'routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );'

# Media as the peers see it on the tap, SIP on the loopback (every message passes mgwd's 5060).
capture_start media
capture_start sip lo "udp port 5060"

# The callee: answers one call, echoes its RTP, hangs up when the caller does.
(cd "$WORK" && nsx sipp -sn uas -p 5070 -i 127.0.0.1 -mi "$TAP_ADDR" -mp 7000 -rtp_echo \
	-nostdin -m 1 -timeout 40s >"$WORK/uas.out" 2>&1) &
UAS_PID=$!

BS="$WORK/baresip"
mkdir -p "$BS"
# aufile wants 16-bit PCM: ten seconds of a 440 Hz tone at 8 kHz, mono.
SOUND="$BS/tone.wav"
python3 - "$SOUND" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                       for i in range(80000)))
w.close()
PY
cat >"$BS/config" <<EOF
poll_method		poll
sip_listen		127.0.0.1:5080
net_interface		mgw0
rtp_ports		16000-16100
audio_path		/usr/share/baresip
audio_source		aufile,$SOUND
audio_player		aubridge,nowhere
audio_alert		aubridge,nowhere
module_path		$BARESIP_MODS
module			g711.so
module			aufile.so
module			aubridge.so
module_app		account.so
module_app		menu.so
EOF
printf '%s\n' "<sip:caller@127.0.0.1:5080>;regint=0;audio_codecs=PCMU,PCMA" >"$BS/accounts"
: >"$BS/contacts"

# Dial at once; -t quits baresip after 6 s, hanging up its call first (a BYE to mgw).
nsx baresip -f "$BS" -e "/dial sip:1234@127.0.0.1:5060" -t 6 >"$WORK/baresip.out" 2>&1 &
BARESIP_PID=$!

wait "$BARESIP_PID" || fail "baresip exited with an error: $(tail -c 2000 "$WORK/baresip.out")"
wait "$UAS_PID" || fail "SIPp callee failed: $(tail -20 "$WORK/uas.out")"
capture_stop
grep -q "answered by" "$WORK/mgwd.log" ||
	fail "call not answered: $(tail -20 "$WORK/baresip.out")"
grep -q "b2bua: ended .*BYE from caller" "$WORK/mgwd.log" ||
	fail "call not ended by the caller's BYE: $(grep b2bua "$WORK/mgwd.log")"

# Each leg's media addresses from the SDP on the wire: baresip's offer (from 5080) and mgwd's
# 200 to it; mgwd's offer to the callee (to 5070) and the callee's 200.
sdp_media "$WORK/sip.pcap" >"$WORK/sdp.txt"
caller=$(sdp_of "$WORK/sdp.txt" 5080 5060 INVITE)
leg_a=$(sdp_of "$WORK/sdp.txt" 5060 5080 200)
leg_b=$(sdp_of "$WORK/sdp.txt" 5060 5070 INVITE)
callee=$(sdp_of "$WORK/sdp.txt" 5070 5060 200)
note "SDP: baresip $caller, mgwd leg A $leg_a, mgwd leg B $leg_b, callee $callee"
[ "${caller%:*}" = "$TAP_ADDR" ] && [ "${callee%:*}" = "$TAP_ADDR" ] &&
	[ "${leg_a%:*}" = "$MEDIA_IP" ] && [ "${leg_b%:*}" = "$MEDIA_IP" ] && [ "$leg_a" != "$leg_b" ] ||
	fail "SDP addresses not as expected: $(cat "$WORK/sdp.txt")"

# RTP went both ways through both legs: what baresip sent to leg A left leg B towards the
# callee, and what the callee echoed to leg B left leg A towards baresip (5 s of 20 ms packets
# at least). RTCP, when a peer sends it, goes port + 1 to port + 1.
udp_flows "$WORK/media.pcap" >"$WORK/flows.txt"
assert_forwarded "$WORK/flows.txt" "baresip -> callee" "$caller" "$leg_a" "$leg_b" "$callee" 200
assert_forwarded "$WORK/flows.txt" "callee -> baresip" "$callee" "$leg_b" "$leg_a" "$caller" 190
plus1() { echo "${1%:*}:$((${1##*:} + 1))"; }
assert_only_flows "$WORK/flows.txt" "$leg_a $caller" "$leg_b $callee" \
	"$(plus1 "$leg_a") $(plus1 "$caller")" "$(plus1 "$leg_b") $(plus1 "$callee")"
# The CDR counts RTP in both directions.
grep '"kind":"b2bua"' "$WORK/mgwd.log" | sed 's/^.*cdr: //' >"$WORK/cdr.json"
python3 - "$WORK/cdr.json" <<'PY' || fail "CDR without RTP both ways: $(cat "$WORK/cdr.json")"
import json, sys
cdrs = [json.loads(l) for l in open(sys.argv[1])]
assert len(cdrs) == 1, cdrs
c = cdrs[0]
assert c["a_to_b"]["rtp_in"] > 0 and c["b_to_a"]["rtp_in"] > 0, c
assert c["a_to_b"]["rtp_relayed"] > 0 and c["b_to_a"]["rtp_relayed"] > 0, c
PY
assert_clean
