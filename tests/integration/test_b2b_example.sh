#!/usr/bin/env bash
# docs/examples/b2bua.conf as it is, with the README's commands: SIPp as the callee on
# 127.0.0.1:5070, SIPp calling 1000 through mgw (routed, media relayed both ways), a call to
# echo (the echo application), and a call to a user no route matches (404). The routed call's
# media is checked on the tap against the SDP on the wire; the 404 in SIPp's message trace.
source "$(dirname "$0")/lib.sh"
mgw_setup_default example -c "$MGW_SRC/docs/examples/b2bua.conf"

capture_start routed
capture_start sip lo "udp port 5060"
ip netns exec "$NS" sipp -sn uas -p 5070 -i 127.0.0.1 -mi 198.18.0.1 -rtp_echo -m 1 -nostdin \
	-timeout 60s >"$WORK/uas.out" 2>&1 &
UAS_PID=$!
sleep 0.5
(cd "$MGW_SRC" && nsx sipp -sf tools/sipp/echo-call.xml -s 1000 -p 5071 -mi 198.18.0.1 -m 1 \
	127.0.0.1:5060 -nostdin -timeout 60s -timeout_error >"$WORK/routed.out" 2>&1) ||
	fail "routed call failed: $(tail -20 "$WORK/routed.out")"
wait "$UAS_PID" || fail "the callee saw a failed call: $(tail -20 "$WORK/uas.out")"
capture_stop
grep -q "answered by .*127.0.0.1:5070" "$WORK/mgwd.log" || fail "not routed to the callee"
# On the tap: what the caller sent to leg A (mgwd's 200) left leg B (mgwd's INVITE) for the
# callee's SDP address, and the callee's echo came back the other way, nothing else.
sdp_media "$WORK/sip.pcap" >"$WORK/sdp.txt"
caller=$(sdp_of "$WORK/sdp.txt" 5071 5060 INVITE)
leg_a=$(sdp_of "$WORK/sdp.txt" 5060 5071 200)
leg_b=$(sdp_of "$WORK/sdp.txt" 5060 5070 INVITE)
callee=$(sdp_of "$WORK/sdp.txt" 5070 5060 200)
note "SDP: caller $caller, mgwd leg A $leg_a, mgwd leg B $leg_b, callee $callee"
[ "${leg_a%:*}" = "$MEDIA_IP" ] && [ "${leg_b%:*}" = "$MEDIA_IP" ] && [ -n "${caller%:*}" ] &&
	[ -n "${callee%:*}" ] || fail "SDP not as expected: $(cat "$WORK/sdp.txt")"
sent=$(tshark -r /usr/share/sip-tester/g711a.pcap 2>/dev/null | wc -l)
udp_flows "$WORK/routed.pcap" >"$WORK/flows.txt"
assert_forwarded "$WORK/flows.txt" "caller -> callee" "$caller" "$leg_a" "$leg_b" "$callee" \
	$((sent * 95 / 100))
assert_forwarded "$WORK/flows.txt" "callee -> caller" "$callee" "$leg_b" "$leg_a" "$caller" \
	$((sent * 90 / 100))
assert_only_flows "$WORK/flows.txt" "$leg_a $caller" "$leg_b $callee"
cdr=$(grep '"kind":"b2bua"' "$WORK/mgwd.log" | tail -1)
python3 - "$cdr" <<'PY' || fail "media did not cross both ways: $cdr"
import json, sys
r = json.loads(sys.argv[1].split("cdr: ", 1)[1])
a, b = r["a_to_b"], r["b_to_a"]
print("--- relayed caller->callee %d, callee->caller %d" % (a["rtp_relayed"], b["rtp_relayed"]))
sys.exit(0 if a["rtp_relayed"] > 100 and b["rtp_relayed"] > 100 else 1)
PY

(cd "$MGW_SRC" && nsx sipp -sf tools/sipp/echo-call.xml -s echo -p 5071 -mi 198.18.0.1 -m 1 \
	127.0.0.1:5060 -nostdin -timeout 60s -timeout_error >"$WORK/echo.out" 2>&1) ||
	fail "echo call failed: $(tail -20 "$WORK/echo.out")"
grep -qE "call: ended .* rtp in [1-9][0-9]* out [1-9]" "$WORK/mgwd.log" || fail "echo did not echo"

(cd "$MGW_SRC" && nsx sipp -sf tools/sipp/echo-call.xml -s alice -p 5071 -mi 198.18.0.1 -m 1 \
	127.0.0.1:5060 -nostdin -timeout 20s -trace_msg -message_file "$WORK/404.msg" \
	>"$WORK/404.out" 2>&1) && fail "a call to alice succeeded"
# SIPp's message trace: the INVITE it sent, and the status lines of what it received for it.
python3 - "$WORK/404.msg" <<'PY' || fail "no final 404 for an unrouted user: $(cat "$WORK/404.msg")"
import re, sys
text = open(sys.argv[1], errors="replace").read()
blocks = re.split(r"^-{20,}.*$", text, flags=re.M)
sent, finals = [], []
for b in blocks:
    head, _, msg = b.strip().partition("\n")
    lines = msg.strip().splitlines()
    if not lines:
        continue
    hdr = {}
    for l in lines[1:]:
        if not l.strip():
            break
        k, _, v = l.partition(":")
        hdr[k.strip().lower()] = v.strip()
    if "sent" in head:
        sent.append((lines[0], hdr))
    elif "received" in head:
        m = re.match(r"SIP/2\.0 (\d{3}) ", lines[0])
        if m and int(m.group(1)) >= 200 and hdr.get("cseq", "").endswith("INVITE"):
            finals.append((int(m.group(1)), lines[0], hdr.get("call-id")))
invites = [h.get("call-id") for l, h in sent if l.startswith("INVITE sip:alice@")]
print("--- INVITE sent for Call-ID %s; final responses received: %s"
      % (invites, [f[1] for f in finals]))
ok = len(invites) == 1 and finals and all(f[0] == 404 and f[2] == invites[0] for f in finals)
sys.exit(0 if ok else 1)
PY
note "routed, echo and 404 as documented"
assert_clean
