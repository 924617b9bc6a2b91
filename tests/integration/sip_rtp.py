# A SIP caller with RTP: INVITE, ACK, RTP every 20 ms with the echo times noted, then BYE.
# argv: tap-address, run-seconds, user... ; prints one JSON object. SIP_TARGET=host:port sends
# the INVITE there instead of mgwd (a proxy): the ACK and BYE then follow the 200's
# Record-Route to its Contact (RFC 3261 12.2.1.1). SIP_CALL_ID=X: the calls' Call-IDs are
# ... instead of ones made of the pid.
import json, os, re, select, socket, struct, sys, time
tap, run_s, users = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
_t = os.environ.get("SIP_TARGET", "127.0.0.1:5060").rsplit(":", 1)
MGW = (_t[0], int(_t[1]))
sig = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sig.bind(("127.0.0.1", 5071))
calls = []
for i, user in enumerate(users):
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind((tap, 30000 + 2 * i))
    rtp.setblocking(False)
    cid = os.environ.get("SIP_CALL_ID")  # a fixed Call-ID (e.g. for a proxy's hashing)
    cid = "%s-%d" % (cid, i) if cid else "restart-%d-%d@test" % (os.getpid(), i)
    calls.append({"user": user, "cid": cid,
                  "ftag": "ft%d" % i, "rtp": rtp, "port": 30000 + 2 * i, "echo": [],
                  "sent": 0})

def req(c, method, cseq, branch, body=""):
    to = "<sip:%s@127.0.0.1>" % c["user"] + (";tag=" + c["ttag"] if "ttag" in c else "")
    ruri = c.get("target") or "sip:%s@%s:%d" % (c["user"], MGW[0], MGW[1])
    route = "".join("Route: %s\r\n" % r for r in c.get("routes", []))
    return ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=%s\r\n%s"
            "Max-Forwards: 70\r\nFrom: <sip:tester@127.0.0.1>;tag=%s\r\nTo: %s\r\n"
            "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:tester@127.0.0.1:5071>\r\n%s"
            "Content-Length: %d\r\n\r\n%s" % (
                method, ruri, branch, route, c["ftag"], to, c["cid"], cseq, method,
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
    rr = re.findall(r"^Record-Route:\s*(.+?)\r?$", resp, re.M | re.I)
    if rr:  # through a proxy: in-dialog requests go to the Contact, along the route set
        c["routes"] = [r.strip() for line in reversed(rr) for r in line.split(",")]
        c["target"] = re.search(r"^Contact:\s*<([^>]+)>", resp, re.M | re.I).group(1)
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
