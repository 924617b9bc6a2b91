#!/usr/bin/env bash
# Calls survive a restart. Two calls are established: one to the echo application, one routed
# through the B2BUA to a SIPp callee that echoes RTP. A caller of the test's own (sip_rtp.py
# below) sends RTP on both every 20 ms and notes when each packet comes back. mgwd is killed
# with SIGKILL mid-call and started again on the same configuration: it takes both calls back
# from its journal. Then, for each call: RTP comes back within 1 s of the new mgwd being
# ready, the caller's BYE gets 200 (through to the callee for the B2BUA call), and a call
# record is written. Afterwards nothing is left; a third start restores nothing. A stop with
# SIGQUIT (the upgrade path) hands a call to the next mgwd the same way, without a BYE.
source "$(dirname "$0")/lib.sh"
mgw_setup restart 'log = { level = "info"; };
routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); },
           { name = "echo"; prefix = "echo"; app = "echo"; } );'
printf 'cdr = { file = "%s"; };\n' "$WORK/cdr.jsonl" >>"$WORK/mgwd.conf"
mgwctl reload >/dev/null || fail "reload with a cdr file failed"

(cd "$WORK" && exec ip netns exec "$NS" sipp -sn uas -i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" \
	-mp 7000 -rtp_echo -nostdin -m 1 -timeout 60s >"$WORK/callee.out" 2>&1) &
CALLEE=$!

cat >"$WORK/sip_rtp.py" <<'PY'
# A SIP caller with RTP: INVITE, ACK, RTP every 20 ms with the echo times noted, then BYE.
# argv: tap-address, run-seconds, user... ; prints one JSON object.
import json, os, re, select, socket, struct, sys, time
tap, run_s, users = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
MGW = ("127.0.0.1", 5060)
sig = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sig.bind(("127.0.0.1", 5071))
calls = []
for i, user in enumerate(users):
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind((tap, 30000 + 2 * i))
    rtp.setblocking(False)
    calls.append({"user": user, "cid": "restart-%d-%d@test" % (os.getpid(), i),
                  "ftag": "ft%d" % i, "rtp": rtp, "port": 30000 + 2 * i, "echo": [],
                  "sent": 0})

def req(c, method, cseq, branch, body=""):
    to = "<sip:%s@127.0.0.1>" % c["user"] + (";tag=" + c["ttag"] if "ttag" in c else "")
    return ("%s sip:%s@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=%s\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:tester@127.0.0.1>;tag=%s\r\nTo: %s\r\n"
            "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:tester@127.0.0.1:5071>\r\n%s"
            "Content-Length: %d\r\n\r\n%s" % (
                method, c["user"], branch, c["ftag"], to, c["cid"], cseq, method,
                "Content-Type: application/sdp\r\n" if body else "", len(body), body)).encode()

def transact(c, method, cseq, branch, body="", want=200):
    msg, deadline, resend = req(c, method, cseq, branch, body), time.time() + 10, 0
    while time.time() < deadline:
        if time.time() >= resend:
            sig.sendto(msg, MGW)
            resend = time.time() + 0.5
        r, _, _ = select.select([sig], [], [], 0.1)
        if not r:
            continue
        data = sig.recv(65535).decode(errors="replace")
        m = re.match(r"SIP/2.0 (\d+)", data)
        if not m or ("Call-ID: %s" % c["cid"]) not in data or ("CSeq: %d %s" % (cseq, method)) not in data:
            continue
        code = int(m.group(1))
        if code < 200:
            continue
        return code, data
    return None, ""

for c in calls:
    sdp = ("v=0\r\no=t 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n"
           "a=rtpmap:0 PCMU/8000\r\n" % (tap, tap, c["port"]))
    code, resp = transact(c, "INVITE", 1, "z9hG4bK-inv-" + c["cid"], sdp)
    if code != 200:
        print(json.dumps({"error": "INVITE to %s: %s" % (c["user"], code)})); sys.exit(1)
    c["ttag"] = re.search(r"^To:.*;tag=([^;\s>]+)", resp, re.M | re.I).group(1)
    body = resp.split("\r\n\r\n", 1)[1]
    c["media"] = (re.search(r"c=IN IP4 (\S+)", body).group(1),
                  int(re.search(r"m=audio (\d+)", body).group(1)))
    sig.sendto(req(c, "ACK", 1, "z9hG4bK-ack-" + c["cid"]), MGW)

start, seq, nxt = time.time(), 0, time.time()
while time.time() - start < run_s:
    now = time.time()
    if now >= nxt:
        seq += 1
        for c in calls:
            pkt = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x5e5e0000) + struct.pack("!d", now) + b"\xff" * 152
            try:
                c["rtp"].sendto(pkt, c["media"])
                c["sent"] += 1
            except OSError:
                pass  # the tap is gone while mgwd restarts
        nxt += 0.02
    r, _, _ = select.select([c["rtp"] for c in calls], [], [], max(0, min(nxt - time.time(), 0.02)))
    for s in r:
        c = next(c for c in calls if c["rtp"] is s)
        while True:
            try:
                data = s.recv(2048)
            except (BlockingIOError, OSError):
                break
            c["echo"].append(time.time())
out = {}
for c in calls:
    code, _ = transact(c, "BYE", 2, "z9hG4bK-bye-" + c["cid"])
    out[c["user"]] = {"call_id": c["cid"], "sent": c["sent"], "echo": c["echo"], "bye": code}
print(json.dumps(out))
PY

nsx python3 "$WORK/sip_rtp.py" "$TAP_ADDR" 14 echo 1000 >"$WORK/caller.json" 2>"$WORK/caller.err" &
CALLER=$!
wait_status "r['calls'] == 2 and r['sip']['dialogs'] == 3" 10 ||
	fail "the two calls were not set up: $(mgwctl --json status)"
sleep 3
[ "$(wc -l <"$WORK/calls.journal")" -ge 2 ] || fail "the journal holds no calls: $(cat "$WORK/calls.journal")"

note "kill -9 mgwd with both calls up"
kill -KILL "$MGWD_PID"
wait "$MGWD_PID" 2>/dev/null || true
killed_at=$(date +%s.%N)
mv "$WORK/mgwd.log" "$WORK/mgwd-1.log"
sleep 1
ip netns exec "$NS" "$MGW_BIN/mgwd" -c "$WORK/mgwd.conf" >"$WORK/mgwd.log" 2>&1 &
MGWD_PID=$!
mgw_wait_ready
ready_at=$(date +%s.%N)
grep -q "journal: 2 of 2 call(s) restored" "$WORK/mgwd.log" ||
	fail "the calls were not restored: $(grep -E 'journal|restored' "$WORK/mgwd.log")"
[ "$(jget status "r['calls']")" = 2 ] || fail "status after the restart: $(mgwctl --json status)"

wait "$CALLER" || fail "the caller failed: $(cat "$WORK/caller.err") $(cat "$WORK/caller.json")"
wait "$CALLEE" || fail "the callee saw a failed call: $(tail -20 "$WORK/callee.out")"
python3 - "$WORK/caller.json" "$killed_at" "$ready_at" <<'PY' || fail "media or BYE after the restart"
import json, sys
r, killed, ready = json.load(open(sys.argv[1])), float(sys.argv[2]), float(sys.argv[3])
ok = True
for user, c in r.items():
    before = [t for t in c["echo"] if t < killed]
    after = [t for t in c["echo"] if t > ready]
    first = after[0] - ready if after else None
    print("--- %s: %d sent, %d echoed before the kill, %d after the restart, first %.3f s "
          "after ready, BYE %s" % (user, c["sent"], len(before), len(after),
                                   first if first is not None else -1, c["bye"]))
    if len(before) < 20 or not after or first > 1.0 or len(after) < 20 or c["bye"] != 200:
        ok = False
sys.exit(0 if ok else 1)
PY
for user in echo 1000; do
	cid=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['$user']['call_id'])" "$WORK/caller.json")
	grep -q "\"$cid\"" "$WORK/cdr.jsonl" || fail "no call record for the $user call: $(cat "$WORK/cdr.jsonl")"
done
note "both calls took their BYE after the restart, with call records"
assert_clean
wait_status "r['sip']['dialogs'] == 0" 10 || fail "dialogs left: $(mgwctl --json status)"

note "SIGQUIT: stop, leaving an established call to the next mgwd"
(cd "$WORK" && exec ip netns exec "$NS" sipp -sn uas -i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" \
	-mp 7000 -rtp_echo -nostdin -m 1 -timeout 60s >"$WORK/callee2.out" 2>&1) &
CALLEE=$!
nsx python3 "$WORK/sip_rtp.py" "$TAP_ADDR" 8 1000 >"$WORK/caller2.json" 2>"$WORK/caller2.err" &
CALLER=$!
wait_status "r['calls'] == 1" 10 || fail "the call was not set up"
sleep 2
kill -QUIT "$MGWD_PID"
wait "$MGWD_PID" || fail "mgwd exited with an error on SIGQUIT"
grep -q "stopping, the calls stay in the journal" "$WORK/mgwd.log" || fail "no SIGQUIT stop in the log"
mv "$WORK/mgwd.log" "$WORK/mgwd-2.log"
ip netns exec "$NS" "$MGW_BIN/mgwd" -c "$WORK/mgwd.conf" >"$WORK/mgwd.log" 2>&1 &
MGWD_PID=$!
mgw_wait_ready
grep -q "journal: 1 of 1 call(s) restored" "$WORK/mgwd.log" || fail "the call was not restored after SIGQUIT"
wait "$CALLER" || fail "the caller failed: $(cat "$WORK/caller2.err")"
wait "$CALLEE" || fail "the callee saw a failed call (a BYE on SIGQUIT?): $(tail -20 "$WORK/callee2.out")"
python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['1000']; sys.exit(0 if c['bye'] == 200 else 1)" \
	"$WORK/caller2.json" || fail "BYE after the SIGQUIT restart: $(cat "$WORK/caller2.json" | head -c 300)"
assert_clean
note "SIGQUIT handed the call over"
