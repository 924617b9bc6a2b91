#!/usr/bin/env bash
# The NG control protocol as Kamailio's rtpengine module speaks it, on mgwd's default
# 127.0.0.1:2223: a ping gets "pong" under the same cookie; the same datagram again gets the
# same reply without the command running twice; a command mgwd does not carry out yet gets an
# NG error saying so; malformed bencode gets an NG error; a source outside ng.allow gets
# nothing and is counted. Then a session: offer (the caller's SDP comes back with mgw's
# address and a port of its own), answer (the callee's likewise), RTP both ways between the
# two peers through mgw's DPDK port, each packet arriving from the port mgw gave the sender's
# counterpart; query counts the packets; list names the call; delete ends it and frees its
# ports. status shows the counters.
source "$(dirname "$0")/lib.sh"
mgw_setup ng 'ng = { allow = ( "127.0.0.1", "127.0.0.2" ); };'

export PYTHONPATH=$(cd "$(dirname "$0")" && pwd)  # bencode.py

out=$(cd "$WORK" && nsx python3 - <<'PY'
import json, socket
from bencode import bdecode

def ask(msg, src="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(1.0)
    s.sendto(msg, ("127.0.0.1", 2223))
    try:
        data = s.recv(65535)
    except socket.timeout:
        return None
    cookie, _, body = data.partition(b" ")
    d, end = bdecode(body)
    assert end == len(body), "trailing bytes in the reply"
    return cookie.decode(), {k: (v.decode() if isinstance(v, bytes) else v) for k, v in d.items()}

r = {}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", 0))
s.settimeout(1.0)
ping = b"8041_7 d7:command4:pinge"
s.sendto(ping, ("127.0.0.1", 2223))
first = s.recv(65535)
s.sendto(ping, ("127.0.0.1", 2223))
second = s.recv(65535)
r["ping"] = first.decode()
r["same_again"] = first == second
r["offer"] = ask(b"9_1 d7:command15:start recording7:call-id3:abce")
r["garbage"] = ask(b"9_2 d7:command")
r["outsider"] = ask(b"9_3 d7:command4:pinge", src="127.0.0.9")
print(json.dumps(r))
PY
) || fail "NG client: $out"
note "NG: $out"
python3 - "$out" <<'PY' || fail "NG replies: $out"
import json, sys
r = json.loads(sys.argv[1])
assert r["ping"] == "8041_7 d6:result4:ponge", r["ping"]
assert r["same_again"]
cookie, offer = r["offer"]
assert cookie == "9_1" and offer["result"] == "error" and "not supported" in offer["error-reason"]
cookie, bad = r["garbage"]
assert cookie == "9_2" and bad["result"] == "error" and "bencoded" in bad["error-reason"]
assert r["outsider"] is None
PY
[ "$(jget status "(r['ng']['pings'], r['ng']['resent'], r['ng']['refused'] >= 1, r['ng']['bad'])")" = "(1, 1, True, 1)" ] ||
	fail "NG counters: $(jget status "r['ng']")"
note "NG counters: $(jget status "r['ng']")"

ports_total=$(jget status "r['ports_total']")
out=$(cd "$WORK" && nsx python3 - "$TAP_ADDR" <<'PY'
import json, re, select, socket, struct, sys, time
from bencode import ng_client
tap = sys.argv[1]

cmd = ng_client("s")

def sdp(port):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % (tap, tap, port))

def media(s):
    s = s.decode()
    return re.search(r"c=IN IP4 (\S+)", s).group(1), int(re.search(r"m=audio (\d+)", s).group(1))

out = {}
o = cmd(command="offer", **{"call-id": "ngcall-1", "from-tag": "ft1"}, sdp=sdp(30000),
        flags=["trust-address"])
out["offer"] = o[b"result".decode()].decode() if "result" in o else o
to_callee = media(o["sdp"])   # where the callee sends
a = cmd(command="answer", **{"call-id": "ngcall-1", "from-tag": "ft1", "to-tag": "tt1"},
        sdp=sdp(40000))
to_caller = media(a["sdp"])   # where the caller sends
out["sides"] = [to_caller, to_callee]
# a re-offer (re-INVITE) keeps the session's ports
o2 = cmd(command="offer", **{"call-id": "ngcall-1", "from-tag": "ft1"}, sdp=sdp(30000))
out["reoffer_same_port"] = media(o2["sdp"]) == to_callee
caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); caller.bind((tap, 30000))
callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); callee.bind((tap, 40000))
got = {"caller": [], "callee": []}
for seq in range(50):
    caller.sendto(struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x111) + b"a" * 160, to_caller)
    callee.sendto(struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x222) + b"b" * 160, to_callee)
    end = time.time() + 0.02
    while time.time() < end:
        r, _, _ = select.select([caller, callee], [], [], max(0, end - time.time()))
        for s in r:
            data, src = s.recvfrom(2048)
            got["caller" if s is caller else "callee"].append((src, data[12:13].decode()))
time.sleep(0.3)
for s, name in ((caller, "caller"), (callee, "callee")):
    s.setblocking(False)
    while True:
        try:
            data, src = s.recvfrom(2048)
        except BlockingIOError:
            break
        got[name].append((src, data[12:13].decode()))
out["caller_got"] = [len(got["caller"]), sorted({"%s:%d %s" % (a, p, c) for (a, p), c in got["caller"]})]
out["callee_got"] = [len(got["callee"]), sorted({"%s:%d %s" % (a, p, c) for (a, p), c in got["callee"]})]
q = cmd(command="query", **{"call-id": "ngcall-1"})
out["query"] = {k: {kk: (vv.decode() if isinstance(vv, bytes) else vv) for kk, vv in v.items()}
                for k, v in q["totals"].items()}
out["list"] = [c.decode() for c in cmd(command="list")["calls"]]
out["stats"] = cmd(command="statistics")["statistics"]["currentstatistics"]["sessionsown"]
out["delete"] = cmd(command="delete", **{"call-id": "ngcall-1", "from-tag": "ft1"})["result"].decode()
out["delete_again"] = cmd(command="delete", **{"call-id": "ngcall-1"})["error-reason"].decode()
# what Kamailio's flags turn into: origin replaced, a codec stripped, ICE removed, a label,
# a recording asked for (not done: a warning, not a refusal); SRTP refused
f = cmd(command="offer", **{"call-id": "ngcall-2", "from-tag": "ft2"},
        sdp=sdp(30000).replace("RTP/AVP 0", "RTP/AVP 0 8") + "a=rtpmap:8 PCMA/8000\r\n",
        flags=["trust-address", "strict-source"], replace=["origin"], ICE="remove",
        codec={"strip": ["PCMA"]}, label="caller", **{"record-call": "yes"})
out["flags_sdp"] = f["sdp"].decode()
out["flags_warning"] = f.get("warning", b"").decode()
out["srtp"] = cmd(command="offer", **{"call-id": "ngcall-3", "from-tag": "ft3"}, sdp=sdp(30002),
                  **{"transport-protocol": "RTP/SAVP"})["error-reason"].decode()
out["delete2"] = cmd(command="delete", **{"call-id": "ngcall-2"})["result"].decode()
print(json.dumps(out))
PY
) || fail "NG session: $out"
note "NG session: $out"
python3 - "$out" "$MEDIA_IP" <<'PY' || fail "NG session checks: $out"
import json, sys
r, mgw = json.loads(sys.argv[1]), sys.argv[2]
to_caller, to_callee = r["sides"]
assert to_caller[0] == mgw and to_callee[0] == mgw and to_caller[1] != to_callee[1]
# what the caller received came from the port mgw gave the caller, and was the callee's
assert r["caller_got"][0] >= 45 and r["caller_got"][1] == ["%s:%d b" % tuple(to_caller)], r["caller_got"]
assert r["callee_got"][0] >= 45 and r["callee_got"][1] == ["%s:%d a" % tuple(to_callee)], r["callee_got"]
q = r["query"]
assert q["caller"]["packets"] >= 45 and q["callee"]["packets"] >= 45, q
assert r["list"] == ["ngcall-1"] and r["stats"] == 1 and r["reoffer_same_port"]
assert r["delete"] == "ok" and r["delete_again"] == "Unknown call-id"
fs = r["flags_sdp"]
assert "o=- 1 1 IN IP4 %s\r\n" % mgw in fs and "m=audio" in fs and " 8" not in fs.split("m=audio")[1].split("\r\n")[0], fs
assert "PCMA" not in fs and "recording" in r["flags_warning"], r
assert "SRTP" in r["srtp"] and r["delete2"] == "ok"
PY
wait_status "r['ng']['sessions'] == 0 and r['ports_free'] == $ports_total" 10 ||
	fail "ports not back after delete: $(mgwctl --json status)"
note "NG session relayed both ways, counted, deleted; every port back"
