#!/usr/bin/env bash
# A PCMU-only caller reaches a PCMA-only callee: mgwd offers the callee both laws, the callee
# picks PCMA, and the data plane transcodes. Payload bytes with known G.711 equivalents are
# checked on the tap: PCMU 0xff (silence) and 0x80 (max positive) from the caller reach the
# callee as PT 8 with A-law 0xd5 and 0xaa; A-law 0xaa and 0x2a (max negative) from the callee
# reach the caller as PT 0 with mu-law 0x80 and 0x00. At least 95% of each arrive, each from
# the leg mgwd's SDP gave its receiver, and every packet mgwd sent has a correct UDP checksum
# (rewriting the payload means recomputing it).
source "$(dirname "$0")/lib.sh"
mgw_setup b2b_transcode 'routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );'

mkpcap "$WORK/caller.pcap" 0 100 0xff 0x80
mkpcap "$WORK/callee.pcap" 8 100 0xaa 0x2a

(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/b2b_callee.xml" -key codec 8 \
	-i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" -mp 7000 -nostdin -m 1 -timeout 30s -timeout_error \
	-trace_msg -message_file "$WORK/callee.msg" >"$WORK/callee.out" 2>&1) &
CALLEE=$!
capture_start transcode
capture_start sip lo "udp port 5060"
sipp_run caller -sf "$SCEN/b2b_caller.xml" -s 1234 -key codec 0 -mp 6000 -d 3000 -m 1 ||
	fail "caller: $(tail -30 "$WORK/caller.out")"
wait "$CALLEE" || fail "callee: $(tail -30 "$WORK/callee.out")"
capture_stop
grep -q "m=audio [0-9]* RTP/AVP 0 8" "$WORK/callee.msg" || fail "the callee was not offered both laws"
grep -q "answered by .*(PCMA, transcoded)" "$WORK/mgwd.log" || fail "mgwd did not log transcoding"

tshark -r "$WORK/transcode.pcap" -d "udp.port==10000-20000,rtp" -Y rtp -T fields \
	-e ip.dst -e udp.dstport -e rtp.p_type -e rtp.payload >"$WORK/rtp.txt" 2>/dev/null
python3 - "$WORK/rtp.txt" "$TAP_ADDR" "$MEDIA_IP" <<'PY' || fail "transcoded payloads"
import sys
rows = [l.split('\t') for l in open(sys.argv[1]).read().splitlines() if l]
host, mgw = sys.argv[2], sys.argv[3]
def got(dst, port):
    out = {}
    for ip, p, pt, pl in rows:
        if (ip, p) == (dst, port):
            b = bytes.fromhex(pl.replace(':', ''))
            key = (int(pt), b[0] if len(set(b)) == 1 and len(b) == 160 else None)
            out[key] = out.get(key, 0) + 1
    return out
ok = True
for name, recv_at, expect in (
        ('caller->callee', (host, '7000'), {(0, 0xff): (8, 0xd5), (0, 0x80): (8, 0xaa)}),
        ('callee->caller', (host, '6000'), {(8, 0xaa): (0, 0x80), (8, 0x2a): (0, 0x00)})):
    sent = {}  # what reached mgwd (both ends' packets: expect picks this direction's)
    for ip, p, pt, pl in rows:
        if ip == mgw:
            b = bytes.fromhex(pl.replace(':', ''))
            sent[(int(pt), b[0])] = sent.get((int(pt), b[0]), 0) + 1
    rx = got(*recv_at)
    for k, v in expect.items():
        print(f"--- {name}: PT {k[0]} 0x{k[1]:02x} sent {sent.get(k, 0)}, "
              f"PT {v[0]} 0x{v[1]:02x} received {rx.get(v, 0)}")
        ok &= sent.get(k, 0) >= 45 and rx.get(v, 0) * 100 >= sent[k] * 95
    other = {k: n for k, n in rx.items() if k not in expect.values()}
    if other:
        print(f"--- {name}: unexpected {other}")
        ok = False
sys.exit(0 if ok else 1)
PY

# Every packet mgwd sent (all of them relayed and rewritten: the laws differ each way) left the
# leg facing its receiver, and carries a correct UDP checksum over the new payload.
sdp_media "$WORK/sip.pcap" >"$WORK/sdp.txt"
leg_a=$(sdp_of "$WORK/sdp.txt" 5060 5061 200)    # mgwd's answer to the caller
leg_b=$(sdp_of "$WORK/sdp.txt" 5060 5070 INVITE) # mgwd's offer to the callee
note "SDP: mgwd leg A $leg_a, leg B $leg_b"
[ "${leg_a%:*}" = "$MEDIA_IP" ] && [ "${leg_b%:*}" = "$MEDIA_IP" ] ||
	fail "mgwd's SDP not found: $(cat "$WORK/sdp.txt")"
tshark -r "$WORK/transcode.pcap" -o udp.check_checksum:TRUE -Y "ip.src == $MEDIA_IP" -T fields \
	-e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e udp.checksum -e udp.checksum.status \
	2>/dev/null >"$WORK/csum.txt"
python3 - "$WORK/csum.txt" "$leg_a" "$leg_b" "$TAP_ADDR" <<'PY' || fail "relayed packets from mgwd"
import collections, sys
rows = [l.split('\t') for l in open(sys.argv[1]).read().splitlines() if l]
leg_a, leg_b, host = sys.argv[2], sys.argv[3], sys.argv[4]
# leg B to the callee's media (7000), leg A to the caller's (6000)
want = {(leg_b, host + ':7000'), (leg_a, host + ':6000')}
flows = collections.Counter((f'{r[0]}:{r[1]}', f'{r[2]}:{r[3]}') for r in rows)
status = collections.Counter(r[5] for r in rows)
print(f"--- from mgwd: {dict(flows)}; UDP checksum status {dict(status)} (1 = good)")
ok = set(flows) == want and all(flows[f] >= 95 for f in want)
bad = [r for r in rows if r[5] != '1' or r[4] == '0x0000']
for r in bad[:5]:
    print(f"--- bad checksum: {r}")
sys.exit(0 if ok and not bad else 1)
PY
assert_clean
