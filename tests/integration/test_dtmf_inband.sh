#!/usr/bin/env bash
# In-band DTMF (media.inband_dtmf). A SIPp caller without telephone-event plays G.711 audio
# that carries the tone pairs of 1, 5, 9 (100 ms each, 200 ms apart, at -10/-12 dBm0 over a
# little noise) to a callee that took telephone-event: the worker hears each digit once, the
# log and the call record name them in order, and the callee gets them as RFC 4733 events in
# its payload type (three end packets each), in order, none extra. The other way, a caller
# with telephone-event sends 7, 3, 9, 1 as RFC 4733 (SIPp's pcaps) to a callee without it:
# the callee hears them as tone pairs in its audio, in order.
source "$(dirname "$0")/lib.sh"
mgw_setup dtmf_inband 'routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );
media = { inband_dtmf = true; };
log = { level = "info"; };'
printf 'cdr = { file = "%s"; };\n' "$WORK/cdr.jsonl" >>"$WORK/mgwd.conf"
mgwctl reload >/dev/null || fail "reload with a cdr file failed"
PYTHONPATH="$MGW_SRC/tests/integration" python3 - "$WORK/caller.pcap" <<'PY'
import math, random, struct, sys, warnings
import rtpaudio
warnings.simplefilter("ignore", DeprecationWarning)
import audioop
rows, cols = {"1": (697, 1209), "5": (770, 1336), "9": (852, 1477)}, None
random.seed(7)
samples = []
def silence(ms):
    samples.extend(random.randint(-60, 60) for _ in range(ms * 8))
def digit(d, ms):
    f1, f2 = rows[d]
    a1, a2 = 22706 * 10 ** (-10 / 20), 22706 * 10 ** (-12 / 20)
    n0 = len(samples)
    for i in range(ms * 8):
        t = (n0 + i) / 8000
        samples.append(int(a1 * math.sin(2 * math.pi * f1 * t) + a2 * math.sin(2 * math.pi * f2 * t))
                       + random.randint(-60, 60))
silence(400)
for d in "159":
    digit(d, 100)
    silence(200)
silence(400)
ulaw = audioop.lin2ulaw(struct.pack("<%dh" % len(samples), *samples), 2)
rtpaudio.write_pcap(sys.argv[1], [(i, 0, ulaw[160 * i:160 * i + 160])
                                  for i in range(len(ulaw) // 160)])
PY
sipp_callee callee 7000 -sf "$SCEN/dtmf_callee.xml"
capture_start inband
sipp_run caller -sf "$SCEN/b2b_caller.xml" -s 1234 -key codec 0 -mp 6000 -d 2500 -m 1 ||
	fail "caller: $(tail -30 "$WORK/caller.out")"
wait "$CALLEE" || fail "callee: $(tail -30 "$WORK/callee.out")"
capture_stop
heard=$(grep -o "in-band DTMF '.' from the caller played as RFC 4733" "$WORK/mgwd.log" | cut -d"'" -f2 | tr -d '\n')
[ "$heard" = "159" ] || fail "in-band digits converted: '$heard', want 159"
bleg=$(tshark -r "$WORK/inband.pcap" -Y "udp.dstport == 7000 and ip.src == $MEDIA_IP" -T fields \
	-e udp.srcport 2>/dev/null | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
python3 "$MGW_SRC/tests/integration/rtpaudio.py" "$WORK/inband.pcap" "$MEDIA_IP:$bleg" \
	"$TAP_ADDR:7000" dtmf=159 || fail "the digits as the callee heard them"
python3 - "$WORK/cdr.jsonl" <<'PY' || fail "digits in the call record: $(cat "$WORK/cdr.jsonl")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("--- call record: dtmf_caller %r" % recs[-1].get("dtmf_caller"))
assert recs[-1].get("dtmf_caller") == "159", recs[-1]
PY
reported=$(jget status "sum(w['dtmf'] for w in r['worker_stats'])")
[ "$reported" -eq 3 ] || fail "workers reported $reported digits, not 3"
assert_clean

# RFC 4733 -> in-band: a callee that took no telephone-event hears the tones
mkpcap "$WORK/callee.pcap" 0 10 0xff
sipp_callee callee2 7010 -sf "$SCEN/b2b_callee.xml" -key codec 0
capture_start tones
sipp_run caller2 -sf "$SCEN/dtmf_caller.xml" -s 1234 -mp 6002 -d 1000 -m 1 ||
	fail "RFC 4733 caller: $(tail -30 "$WORK/caller2.out")"
wait "$CALLEE" || fail "callee without telephone-event: $(tail -30 "$WORK/callee2.out")"
capture_stop
n=$(grep -c "from the caller played in-band" "$WORK/mgwd.log")
[ "$n" -eq 4 ] || fail "$n digits played in-band, want 4"
bleg=$(tshark -r "$WORK/tones.pcap" -Y "udp.dstport == 7010 and ip.src == $MEDIA_IP" -T fields \
	-e udp.srcport 2>/dev/null | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
python3 "$MGW_SRC/tests/integration/rtpaudio.py" "$WORK/tones.pcap" "$MEDIA_IP:$bleg" \
	"$TAP_ADDR:7010" inband=7391 || fail "the tones the callee heard"
assert_clean
