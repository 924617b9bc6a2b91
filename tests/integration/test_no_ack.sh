#!/usr/bin/env bash
# A caller that never ACKs the 200: mgwd retransmits the 200 as RFC 3261 13.3.1.4 says (first
# after T1, the interval doubling each time up to T2 = 4 s) and, 64*T1 after answering, gives
# up: no 200 after that, and the call and its port and stream are gone.
# Seen from outside: the 200s' times in a capture of the caller's SIP port on the namespace's
# loopback, and `mgwctl status` polled while waiting. T1 is 200 ms here, the shortest for
# which T2 caps an interval within 64*T1 (2*T1 ... 32*T1 reaches 6.4 s > T2): the 200 is sent
# at 0, 0.2, 0.6, 1.4, 3.0, 6.2 and 10.2 s (uncapped, the last would be at 12.6 s), and the
# call ends at 12.8 s.
source "$(dirname "$0")/lib.sh"
T1_MS=200
T2_MS=4000
mgw_setup noack "sip = { t1_ms = $T1_MS; };"

capture_start sip lo "udp port 5061"

sipp_run noack -sf "$SCEN/no_ack.xml" -m 1 || fail "SIPp scenario failed: $(tail -30 "$WORK/noack.out")"
[ "$(jget status "r['calls']")" = 1 ] || fail "the unacknowledged call should still be there"
note "call waiting for its ACK: $(jget status "r['calls']") call(s)"

# Poll the call count until it drops to 0: the last time it was 1 and the first time it was 0.
last_up= first_down=
for _ in $(seq 200); do
	now=$(date +%s.%N)
	if [ "$(jget status "r['calls']")" = 0 ]; then first_down=$now; break; fi
	last_up=$now
	sleep 0.1
done
[ -n "$first_down" ] || fail "call not ended 64*T1 after the 200"
grep -q "ended .*no ACK" "$WORK/mgwd.log" || fail "mgwd did not log the missing ACK"
# Long enough after the deadline to see a 200 that should not be there (another T2 would be).
sleep 2
capture_stop

tshark -r "$WORK/sip.pcap" -Y 'sip.Status-Code == 200 && sip.CSeq.method == "INVITE"' \
	-T fields -e frame.time_epoch 2>/dev/null >"$WORK/oks.txt"
note "200 OK sent $(wc -l <"$WORK/oks.txt") times"
python3 - "$WORK/oks.txt" "$T1_MS" "$T2_MS" "$last_up" "$first_down" <<'PY' ||
import sys
t = [float(x) for x in open(sys.argv[1]).read().split()]
t1, t2 = int(sys.argv[2]) / 1000, int(sys.argv[3]) / 1000
last_up, first_down = float(sys.argv[4]), float(sys.argv[5])
deadline = 64 * t1
# RFC 3261 13.3.1.4: retransmit after T1, then double the interval up to T2, until 64*T1.
want, at, step = [0.0], 0.0, t1
while at + step < deadline:
    at += step
    want.append(at)
    step = min(2 * step, t2)
got = [x - t[0] for x in t] if t else []
gaps = [b - a for a, b in zip(got, got[1:])]
want_gaps = [b - a for a, b in zip(want, want[1:])]
print("--- 200 sent at (s):", " ".join("%.3f" % x for x in got))
print("--- intervals (s):  ", " ".join("%.3f" % x for x in gaps))
print("--- expected (s):   ", " ".join("%.3f" % x for x in want_gaps))
ok = True
if len(got) != len(want):
    print("--- %d copies of the 200, expected %d" % (len(got), len(want)))
    ok = False
for i, (g, w) in enumerate(zip(gaps, want_gaps)):
    if not 0.7 * w <= g <= 1.3 * w:
        print("--- interval %d is %.3f s, expected %.3f s +-30 %%" % (i + 1, g, w))
        ok = False
if got and got[-1] > deadline:
    print("--- a 200 at %.3f s, after 64*T1 = %.1f s" % (got[-1], deadline))
    ok = False
# The call ends at the deadline: still there shortly before it, gone shortly after.
if t:
    up, down = last_up - t[0], first_down - t[0]
    print("--- call seen until %.2f s, gone at %.2f s (64*T1 = %.1f s)" % (up, down, deadline))
    if up < 0.9 * deadline or down > deadline + 1.0:
        print("--- the call did not end at 64*T1")
        ok = False
sys.exit(0 if ok else 1)
PY
	fail "the 200 was not retransmitted as RFC 3261 13.3.1.4 says (T1 = $T1_MS ms, T2 = $T2_MS ms)"
assert_clean
