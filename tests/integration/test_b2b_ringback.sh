#!/usr/bin/env bash
# Ringback (media.ringback = tone:ringback of the "eu" plan: 425 Hz, 1 s on, 4 s off). The
# callee rings 2 s without early media, then answers PCMA; the caller offered PCMU:
# - the caller's 180 carries mgwd's SDP (PCMU) and the caller hears 425 Hz from mgwd's address
#   while the callee rings, from one source;
# - at the answer the ringback stops and the caller hears the callee's audio, converted to the
#   PCMU it was answered in (the early answer fixed its codec: mgwd transcodes);
# - the call ends cleanly.
source "$(dirname "$0")/lib.sh"
mgw_setup b2b_ringback 'routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );
media = { tone_plan = "eu"; ringback = "tone:ringback"; };
log = { level = "info"; };'
mkpcap "$WORK/caller.pcap" 0 100 0xff
mkpcap "$WORK/callee.pcap" 8 50 0xd5 0xaa
sipp_callee callee 7000 -sf "$SCEN/b2b_callee_ring_answer.xml" -key codec 8
capture_start ring
capture_start sip lo "udp port 5060"
sipp_run caller -sf "$SCEN/b2b_caller.xml" -s 1234 -key codec 0 -mp 6000 -d 2000 -m 1 ||
	fail "caller: $(tail -30 "$WORK/caller.out")"
wait "$CALLEE" || fail "callee: $(tail -30 "$WORK/callee.out")"
capture_stop
grep -q "the callee rings: ringback to the caller" "$WORK/mgwd.log" || fail "no ringback in the log"
sdp_media "$WORK/sip.pcap" >"$WORK/sdp.txt"
ring_sdp=$(sdp_of "$WORK/sdp.txt" 5060 5061 180)
ok_sdp=$(sdp_of "$WORK/sdp.txt" 5060 5061 200)
[ -n "$ring_sdp" ] && [ "$ring_sdp" = "$ok_sdp" ] ||
	fail "the caller's 180 ($ring_sdp) and 200 ($ok_sdp) do not carry the same media address"
note "180 and 200 to the caller carry $ring_sdp"
PYTHONPATH="$MGW_SRC/tests/integration" python3 - "$WORK/ring.pcap" "$ring_sdp" "$TAP_ADDR:6000" <<'PY' ||
import sys
import rtpaudio
pcap, src, dst = sys.argv[1:4]
rows = rtpaudio.packets(pcap, src, dst)
import audioop
want = {audioop.lin2ulaw(audioop.alaw2lin(bytes([b]), 2), 2)[0] for b in (0xd5, 0xaa)}
conv = [r for r in rows if len(set(r["payload"])) == 1 and r["payload"][0] in want]
ring = [r for r in rows if r not in conv]
print("--- caller got %d ringback packets (pt %s), then %d of the callee's, converted to %s" % (
    len(ring), sorted({r["pt"] for r in ring}), len(conv), sorted(want)))
assert len(ring) >= 60 and {r["pt"] for r in ring} == {0}, "ringback"
assert len({r["ssrc"] for r in ring}) == 1
assert len(conv) >= 45 and {r["pt"] for r in conv} == {0}, "the callee's audio"
assert max(r["t"] for r in ring) < min(r["t"] for r in conv) + 0.05, "ringback after the answer"
f = rtpaudio.dominant(rtpaudio.voiced(ring))
print("--- ringback at %d Hz" % f)
assert abs(f - 425) <= 9, f
PY
	fail "what the caller heard"
assert_clean
