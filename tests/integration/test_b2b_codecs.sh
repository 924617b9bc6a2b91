#!/usr/bin/env bash
# Transcoding through the decode -> jitter buffer -> encode pipeline. A PCMU-only caller
# (a 1000 Hz tone) calls three callees in turn that answer only G.722, only G.729 at a ptime
# of 30 ms, and only Opus (each sending a 700 Hz tone in its codec, made with the codec's
# own library). mgwd offers them the codecs media.codecs lists, in its order, and transcodes:
#  - what each callee hears, decoded with its codec's library, is the caller's 1000 Hz tone
#    (within 2 %), as one RTP source from mgwd: its payload type, consecutive sequence
#    numbers, timestamps in its codec's clock at its packet time (G.729: 30-byte packets
#    every 30 ms), the marker on the first packet only;
#  - what the caller hears is the callee's 700 Hz tone in PCMU, 20 ms packets, one source;
#  - at least 90 % of the packets sent arrive each way, and the worker counted no bad
#    packet and sent the transcoded ones (status);
#  - voice activity is judged on the decoded audio: with media.talk_events each callee's
#    tone (G.722, G.729, Opus) is logged as the callee talking, once per call;
#  - RFC 4733 digits survive transcoding: a caller sending 7, 3, 9, 1 as telephone-event 101
#    to a G.722 callee that took telephone-event 96 gets them to the callee in 96, in order,
#    three end packets each, in mgwd's RTP source towards it.
source "$(dirname "$0")/lib.sh"
mgw_setup b2b_codecs 'routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );
media = { codecs = ( "PCMU", "PCMA", "G722", "G729", "opus", "telephone-event" );
          talk_events = true; };
log = { level = "info"; };'

PYTHONPATH="$MGW_SRC/tests/integration" python3 - "$WORK" <<'PY' || fail "making the pcaps"
import math, struct, sys, warnings
import peercodec as cx, rtpaudio
warnings.simplefilter("ignore", DeprecationWarning)
import audioop
work = sys.argv[1]
def tone(hz, rate, n, amp=8000):
    return [int(amp * math.sin(2 * math.pi * hz * i / rate)) for i in range(n)]
x = tone(1000, 8000, 8000 * 3)
u = audioop.lin2ulaw(struct.pack("<%dh" % len(x), *x), 2)
rtpaudio.write_pcap(work + "/caller.pcap", [(i, 0, u[160 * i:160 * i + 160]) for i in range(150)])
for name, pt, ptime in (("G722", 9, 20), ("G729", 18, 30), ("opus", 96, 20)):
    clock, rate = cx.RATES[name]
    spf = rate * ptime // 1000
    enc = cx.Encoder(name)
    y = tone(700, rate, spf * (3000 // ptime))
    pkts = [(i, pt, enc.encode(y[spf * i:spf * (i + 1)])) for i in range(3000 // ptime)]
    rtpaudio.write_pcap("%s/callee_%s.pcap" % (work, name), pkts, ptime_ms=ptime,
                        ts_step=clock * ptime // 1000)
PY

call() { # call NAME PT RTPMAP PTIME
	local name=$1 pt=$2 rtpmap=$3 ptime=$4
	cp "$WORK/callee_$name.pcap" "$WORK/callee.pcap"
	sipp_callee "callee_$name" 7000 -sf "$SCEN/b2b_callee_codec.xml" -key codec "$pt" \
		-key rtpmap "$rtpmap" -key te "" -key ptime "$ptime" -trace_msg \
		-message_file "$WORK/callee_$name.msg"
	capture_start "codec_$name"
	sipp_run "caller_$name" -sf "$SCEN/b2b_caller.xml" -s 1234 -key codec 0 -mp 6000 \
		-d 3500 -m 1 || fail "caller ($name): $(tail -30 "$WORK/caller_$name.out")"
	wait "$CALLEE" || fail "callee ($name): $(tail -30 "$WORK/callee_$name.out")"
	capture_stop
	grep -q "answered by .*($name, transcoded)" "$WORK/mgwd.log" ||
		fail "mgwd did not log transcoding to $name"
	# offered in media.codecs order after the caller's own PCMU and the other law
	grep -q "m=audio [0-9]* RTP/AVP 0 8 9 18 111 101" "$WORK/callee_$name.msg" ||
		fail "the callee's offer: $(grep m=audio "$WORK/callee_$name.msg")"
	local bleg
	bleg=$(tshark -r "$WORK/codec_$name.pcap" -Y "udp.dstport == 7000 and ip.src == $MEDIA_IP" \
		-T fields -e udp.srcport 2>/dev/null | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
	[ -n "$bleg" ] || fail "nothing from mgwd reached the $name callee"
	PYTHONPATH="$MGW_SRC/tests/integration" python3 - "$WORK/codec_$name.pcap" "$name" "$pt" \
		"$ptime" "$MEDIA_IP:$bleg" "$TAP_ADDR:7000" "$TAP_ADDR:6000" <<'PY' ||
import math, sys
import peercodec as cx, rtpaudio
pcap, name, pt, ptime, bleg, callee, caller = sys.argv[1:8]
pt, ptime = int(pt), int(ptime[len("a=ptime:"):] or 20) if ptime else 20
def dominant(x, rate):
    x = x[:rate]
    best = max(range(200, 3401, 10), key=lambda f: rtpaudio.goertzel(x, f, rate))
    return max(range(best - 10, best + 11), key=lambda f: rtpaudio.goertzel(x, f, rate))
def shape(rows, want_pt, step, what):
    ssrcs = {r["ssrc"] for r in rows}
    seqs = [r["seq"] for r in rows]
    steps = {(b["ts"] - a["ts"]) % (1 << 32) for a, b in zip(rows, rows[1:])}
    marks = [i for i, r in enumerate(rows) if r["m"]]
    pts = {r["pt"] for r in rows}
    print("--- %s: %d packets, PT %s, SSRC %s, timestamp steps %s, markers at %s, sizes %s"
          % (what, len(rows), pts, [hex(s) for s in ssrcs], sorted(steps), marks,
             sorted({len(r["payload"]) for r in rows})))
    assert pts == {want_pt} and len(ssrcs) == 1 and marks == [0], what
    assert all((b - a) % 65536 == 1 for a, b in zip(seqs, seqs[1:])), seqs
    assert steps == {step}, steps
clock, rate = cx.RATES[name]
# the callee: its codec, from mgwd's leg B
rows = rtpaudio.packets(pcap, bleg, callee)
shape(rows, pt, clock * ptime // 1000, "to the %s callee" % name)
if name == "G729":
    assert {len(r["payload"]) for r in rows} == {30}, "G.729 at 30 ms: 30 bytes"
want = 2500 // ptime  # the caller sends for 3 s; its first packets fill the buffer
assert len(rows) >= 0.9 * want, (len(rows), want)
dec = cx.Decoder(name)
pcm = []
for r in rows:
    pcm.extend(dec.decode(r["payload"]))
f = dominant(pcm[len(pcm) // 3:], rate)
print("--- the %s callee hears %d Hz (want 1000 within 2 %%)" % (name, f))
assert abs(f - 1000) <= 20, f
# the caller: PCMU 20 ms from mgwd's leg A
import subprocess
out = subprocess.run(["tshark", "-r", pcap, "-Y", "udp.dstport == 6000", "-T", "fields",
                      "-e", "ip.src", "-e", "udp.srcport"], capture_output=True, text=True).stdout
src = max(set(out.split("\n")) - {""}, key=out.split("\n").count).replace("\t", ":")
rows = rtpaudio.packets(pcap, src, caller)
shape(rows, 0, 160, "to the caller")
assert len(rows) >= 0.9 * 2500 // 20, len(rows)
f = dominant(rtpaudio.samples(rows)[len(rows) * 40:], 8000)
print("--- the caller hears %d Hz (want 700 within 2 %%)" % f)
assert abs(f - 700) <= 14, f
PY
		fail "what the $name call carried"
}

call G722 9 "a=rtpmap:9 G722/8000" "a=ptime:20"
call G729 18 "a=rtpmap:18 G729/8000" "a=ptime:30"
call opus 96 "a=rtpmap:96 opus/48000/2" "a=ptime:20"

talks=$(grep -c "the callee talks" "$WORK/mgwd.log" || true)
[ "$talks" -eq 3 ] || fail "the callees' talk heard $talks times, want 3 (one per codec)"

# telephone-event end to end across a transcoded call
cp "$WORK/callee_G722.pcap" "$WORK/callee.pcap"
sipp_callee callee_dtmf 7000 -sf "$SCEN/b2b_callee_codec.xml" -key codec "9 96" \
	-key rtpmap "a=rtpmap:9 G722/8000" -key ptime "a=ptime:20" -key te "a=rtpmap:96 telephone-event/8000"
capture_start codec_dtmf
sipp_run caller_dtmf -sf "$SCEN/dtmf_caller.xml" -s 1234 -mp 6000 -d 1500 -m 1 ||
	fail "caller (dtmf): $(tail -30 "$WORK/caller_dtmf.out")"
wait "$CALLEE" || fail "callee (dtmf): $(tail -30 "$WORK/callee_dtmf.out")"
capture_stop
bleg=$(tshark -r "$WORK/codec_dtmf.pcap" -Y "udp.dstport == 7000 and ip.src == $MEDIA_IP" \
	-T fields -e udp.srcport 2>/dev/null | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
python3 "$MGW_SRC/tests/integration/rtpaudio.py" "$WORK/codec_dtmf.pcap" "$MEDIA_IP:$bleg" \
	"$TAP_ADDR:7000" dtmf=7391/96 seq || fail "the digits as the G.722 callee got them"

bad=$(jget status "sum(w['xcode_bad'] for w in r['worker_stats'])")
sent=$(jget status "sum(w['xcode_sent'] for w in r['worker_stats'])")
note "workers: $sent transcoded packets sent, $bad bad"
[ "$bad" = 0 ] || fail "the workers counted $bad unusable packets"
[ "$sent" -ge 700 ] || fail "only $sent transcoded packets sent"
assert_clean
