#!/usr/bin/env bash
# Music on hold (media.moh, a WAV made by sox: 600 Hz). The caller puts the call on hold and
# resumes it (b2b_caller_hold.xml; each phase 1 s of RTP with its own payload byte). While
# it holds, the callee hears the music from mgwd's address (600 Hz within 2 %, one source)
# instead of what the caller still sends; before and after, the caller's audio; the music
# stops when the caller resumes.
source "$(dirname "$0")/lib.sh"
WAVDIR=$(mktemp -d /tmp/mgwt-moh-wav.XXXXXX)
CLEANUP_EXTRA='rm -rf "$WAVDIR"'
sox -n -r 16000 -b 16 -c 1 "$WAVDIR/moh.wav" synth 1 sine 600 vol 0.4 || fail "sox"
mgw_setup b2b_moh "routes = ( { name = \"callee\"; prefix = \"1\"; destinations = ( \"127.0.0.1:5070\" ); } );
media = { moh = \"$WAVDIR/moh.wav\"; };
log = { level = \"info\"; };"

for phase in 1 2 3; do
	mkpcap "$WORK/caller$phase.pcap" 8 50 "0x1$phase"
	mkpcap "$WORK/callee$phase.pcap" 8 50 "0x2$phase"
done
sipp_callee callee 7000 -sf "$SCEN/b2b_callee_held.xml"
capture_start moh
sipp_run caller -sf "$SCEN/b2b_caller_hold.xml" -s 1234 -mp 6000 -m 1 ||
	fail "caller: $(tail -30 "$WORK/caller.out")"
wait "$CALLEE" || fail "callee: $(tail -30 "$WORK/callee.out")"
capture_stop
grep -q "the caller holds: music on hold to the callee" "$WORK/mgwd.log" || fail "no music on hold in the log"
grep -q "the caller is back: music on hold stops" "$WORK/mgwd.log" || fail "the music did not stop"
PYTHONPATH="$MGW_SRC/tests/integration" python3 - "$WORK/moh.pcap" "$MEDIA_IP" "$TAP_ADDR" <<'PY' ||
import sys
import rtpaudio
pcap, mgw, tap = sys.argv[1:4]
import subprocess
out = subprocess.run(["tshark", "-r", pcap, "-d", "udp.port==1024-65535,rtp", "-Y",
                      "rtp and ip.src == %s and udp.dstport == 7000" % mgw, "-T", "fields",
                      "-e", "udp.srcport"], capture_output=True, text=True).stdout.split()
src = "%s:%s" % (mgw, max(set(out), key=out.count))
rows = rtpaudio.packets(pcap, src, tap + ":7000")
byte = lambda r: r["payload"][0] if len(set(r["payload"])) == 1 else None
caller = {b: [r for r in rows if byte(r) == b] for b in (0x11, 0x12, 0x13)}
music = [r for r in rows if byte(r) not in (0x11, 0x12, 0x13)]
print("--- callee got: caller's phases %s, music %d packets" %
      ([len(caller[b]) for b in (0x11, 0x12, 0x13)], len(music)))
assert len(caller[0x11]) >= 45 and len(caller[0x13]) >= 45, "the caller's audio before/after"
assert len(caller[0x12]) <= 3, "the caller's audio reached the held callee"
assert len(music) >= 40 and len({r["ssrc"] for r in music}) == 1, len(music)
t0, t1 = music[0]["t"], music[-1]["t"]
assert all(not (t0 < r["t"] < t1) for b in (0x11, 0x13) for r in caller[b]), "mixed"
assert min(r["t"] for r in caller[0x13]) > t1 - 0.1, "music after the resume"
f = rtpaudio.dominant(rtpaudio.voiced(music))
print("--- music at %d Hz" % f)
assert abs(f - 600) <= 12, f
PY
	fail "what the held callee heard"
assert_clean
