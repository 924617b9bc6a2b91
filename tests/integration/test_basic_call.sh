#!/usr/bin/env bash
# A basic call: SIPp's uac_pcap scenario calls mgwd, plays 236 G.711 RTP packets to the media
# port the SDP answer gave, and hangs up. tshark on the tap's host side counts what came back:
# nearly every packet, from mgwd's media address, rewritten as mgwd's own RTP source (one SSRC
# that is not the caller's, consecutive sequence numbers). Afterwards nothing is left.
source "$(dirname "$0")/lib.sh"
mgw_setup basic
ln -s /usr/share/sip-tester "$WORK/pcap"

capture_start basic
sipp_run call -sn uac_pcap -m 1 -d 1000 || fail "SIPp reported a failed call: $(tail -40 "$WORK/call.out")"
capture_stop

fields() { tshark -r "$WORK/basic.pcap" -d "udp.port==10000-20000,rtp" -Y "$1" -T fields -e rtp.ssrc -e rtp.seq 2>/dev/null; }
sent=$(fields "ip.src==$TAP_ADDR && rtp.version==2" | wc -l)
fields "ip.src==$MEDIA_IP && rtp.version==2" >"$WORK/echoed.txt"
echoed=$(wc -l <"$WORK/echoed.txt")
note "RTP sent by the caller: $sent, echoed by mgwd: $echoed"
[ "$sent" -ge 200 ] || fail "caller sent only $sent RTP packets"
[ $((echoed * 100)) -ge $((sent * 95)) ] || fail "only $echoed of $sent packets came back"

in_ssrc=$(fields "ip.src==$TAP_ADDR && rtp.version==2" | cut -f1 | sort -u)
out_ssrc=$(cut -f1 "$WORK/echoed.txt" | sort -u)
[ "$(echo "$out_ssrc" | wc -l)" -eq 1 ] || fail "echo used several SSRCs: $out_ssrc"
[ "$out_ssrc" != "$in_ssrc" ] || fail "echo kept the caller's SSRC $in_ssrc"
python3 - "$WORK/echoed.txt" <<'PY' || fail "echoed sequence numbers are not consecutive"
import sys
seqs = [int(l.split('\t')[1]) for l in open(sys.argv[1]) if l.strip()]
gaps = [(a, b) for a, b in zip(seqs, seqs[1:]) if (a + 1) & 0xffff != b]
sys.exit(1 if gaps else 0)
PY
assert_clean
