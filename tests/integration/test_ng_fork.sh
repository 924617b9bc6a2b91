#!/usr/bin/env bash
# NG sessions beyond one offer and one answer, as Kamailio drives them:
# - a call forked to two callees (one offer per fork, each with its via-branch): each fork
#   gets ports of its own and its own answer; deleting the losing fork by its via-branch
#   leaves the winner relaying both ways; the BYE's delete (another via-branch) ends the
#   call and every port comes back;
# - codec transcode: a PCMU-only caller, PCMU masked and PCMA added towards the callee; the
#   callee answers PCMA; the caller's answer names PCMU; what each hears is the other's audio
#   converted sample by sample (G.711 tables), telephone-event passes unchanged; codec offer
#   keeps exactly the codecs named; a codec mgw cannot transcode is refused (the other
#   codecs: test_ng_codecs);
# - RTCP relayed both ways, and the round trip to the callee measured from its receiver
#   report (LSR/DLSR) shown by query;
# - block media from one side: the other hears nothing until unblock media;
# - direction: each side's address is the interface named for it (ng.interfaces); an
#   unknown interface is refused;
# - the calls' quality lands in /metrics' histograms.
source "$(dirname "$0")/lib.sh"
MEDIA_IP2=198.18.0.3
mgw_setup ngfork "dataplane = { workers = 1; mbufs = 4095; media_ip_count = 2; };
ng = { interfaces = ( \"internal/$MEDIA_IP\", \"external/$MEDIA_IP2\" ); };"
export PYTHONPATH=$(cd "$(dirname "$0")" && pwd) # bencode.py
ports_total=$(jget status "r['ports_total']")

out=$(cd "$WORK" && nsx python3 - "$TAP_ADDR" <<'PY'
import json, re, select, socket, struct, sys, time, urllib.request, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import audioop
from bencode import ng_client
tap = sys.argv[1]

cmd = ng_client("f", decode=True)

def ids(cid, ft, tt=None, via=None):
    d = {"call-id": cid, "from-tag": ft}
    if tt: d["to-tag"] = tt
    if via: d["via-branch"] = via
    return d

def sdp(port, fmts="0", extra="a=rtpmap:0 PCMU/8000\r\n"):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP %s\r\n%s" % (tap, tap, port, fmts, extra))

def media(s):
    return (re.search(r"c=IN IP4 (\S+)", s).group(1), int(re.search(r"m=audio (\d+)", s).group(1)),
            re.search(r"m=audio \d+ \S+ ([\d ]+)", s).group(1).split())

def sock(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((tap, port)); return s

def exchange(a, to_a, b, to_b, payload_a, payload_b, pt_a=0, pt_b=0, count=30):
    """a sends to to_a (mgw's side for a), b to to_b; returns what each received"""
    got = {a: [], b: []}
    for seq in range(count):
        a.sendto(struct.pack("!BBHII", 0x80, pt_a, seq, seq * 160, 0x111) + payload_a, to_a)
        b.sendto(struct.pack("!BBHII", 0x80, pt_b, seq, seq * 160, 0x222) + payload_b, to_b)
        end = time.time() + 0.02
        while time.time() < end:
            r, _, _ = select.select([a, b], [], [], max(0, end - time.time()))
            for s in r:
                data, src = s.recvfrom(2048)
                got[s].append((src, data[1] & 0x7f, data[12:]))
    time.sleep(0.3)
    for s in (a, b):
        s.setblocking(False)
        while True:
            try:
                data, src = s.recvfrom(2048)
            except BlockingIOError:
                break
            got[s].append((src, data[1] & 0x7f, data[12:]))
        s.setblocking(True)
    return got[a], got[b]

def mos_count():
    with urllib.request.urlopen("http://127.0.0.1:9180/metrics", timeout=5) as r:
        m = re.search(r"^mgw_call_mos_count (\d+)$", r.read().decode(), re.M)
    return int(m.group(1))

out = {}
mos0 = mos_count()
# ---- a forked call ----
o1 = cmd(command="offer", **ids("fork-1", "ft", via="z9hG4bK-f1"), sdp=sdp(30000))
o2 = cmd(command="offer", **ids("fork-1", "ft", via="z9hG4bK-f2"), sdp=sdp(30000))
a1 = cmd(command="answer", **ids("fork-1", "ft", "tt1", "z9hG4bK-f1"), sdp=sdp(40000))
a2 = cmd(command="answer", **ids("fork-1", "ft", "tt2", "z9hG4bK-f2"), sdp=sdp(40002))
out["fork_results"] = [x["result"] for x in (o1, o2, a1, a2)]
f1 = (media(o1["sdp"])[:2], media(a1["sdp"])[:2])   # (to callee 1, to caller for 1)
f2 = (media(o2["sdp"])[:2], media(a2["sdp"])[:2])
out["fork_ports"] = [f1, f2]
out["fork_query"] = cmd(command="query", **ids("fork-1", "ft"))["branches"]
# fork 2 loses (its 487 makes Kamailio delete by its via-branch)
d2 = cmd(command="delete", **ids("fork-1", "ft", "tt2", "z9hG4bK-f2"))
out["fork_loser_deleted"] = [d2["result"], cmd(command="query", **ids("fork-1", "ft"))["branches"]]
caller, callee1 = sock(30000), sock(40000)
got_caller, got_callee = exchange(caller, tuple(f1[1]), callee1, tuple(f1[0]), b"a" * 160, b"b" * 160)
out["fork_caller_got"] = [len(got_caller), sorted({"%s:%d %s" % (s[0], s[1], p[:1].decode()) for s, _, p in got_caller})]
out["fork_callee_got"] = [len(got_callee), sorted({"%s:%d %s" % (s[0], s[1], p[:1].decode()) for s, _, p in got_callee})]
# block media from the caller: the callee hears nothing, the caller still hears the callee
out["block"] = cmd(command="block media", **ids("fork-1", "ft"))["result"]
got_caller, got_callee = exchange(caller, tuple(f1[1]), callee1, tuple(f1[0]), b"a" * 160, b"b" * 160, count=10)
out["blocked_got"] = [len(got_caller), len(got_callee)]
out["unblock"] = cmd(command="unblock media", **ids("fork-1", "ft"))["result"]
got_caller, got_callee = exchange(caller, tuple(f1[1]), callee1, tuple(f1[0]), b"a" * 160, b"b" * 160, count=10)
out["unblocked_got"] = [len(got_caller), len(got_callee)]
# RTCP through the fork: the caller's sender report, and 150 ms later the callee's receiver
# report naming it and claiming it was held 50 ms: mgw measures a 100 ms round trip to the
# callee
rc_caller, rc_callee = sock(30001), sock(40001)
rc_callee.settimeout(2)
srp = struct.pack("!BBHIIIIII", 0x80, 200, 6, 0x111, 0x0000abcd, 0x12340000, 0, 10, 1600)
rc_caller.sendto(srp, (f1[1][0], f1[1][1] + 1))
got_sr = rc_callee.recv(2048)
time.sleep(0.15)
mid = struct.unpack("!I", got_sr[10:14])[0]
rrp = struct.pack("!BBHIIIIIII", 0x81, 201, 7, 0x222, 0x111, 0, 10, 0, mid, 50 * 65536 // 1000)
rc_callee.sendto(rrp, (f1[0][0], f1[0][1] + 1))
rc_caller.settimeout(2)
out["rtcp_relayed"] = [got_sr == srp, rc_caller.recv(2048) == rrp]
time.sleep(0.1)
q = cmd(command="query", **ids("fork-1", "ft"))
out["rtt_us"] = q["totals"]["callee"].get("RTT", 0)
# the BYE's delete: a via-branch of its own -> the whole call
out["fork_bye"] = cmd(command="delete", **ids("fork-1", "ft", "tt1", "z9hG4bK-bye"))["result"]
out["fork_gone"] = cmd(command="query", **ids("fork-1", "ft")).get("error-reason")

# ---- transcoding PCMU (caller) <-> PCMA (callee), telephone-event end to end ----
te = "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
o = cmd(command="offer", **ids("xc-1", "ft"), sdp=sdp(30010, "0 101", te),
        codec={"mask": ["PCMU"], "transcode": ["PCMA"]})
out["xc_offer"] = media(o["sdp"])
out["xc_offer_rtpmap"] = "a=rtpmap:8 PCMA/8000" in o["sdp"] and "PCMU" not in o["sdp"]
a = cmd(command="answer", **ids("xc-1", "ft", "tt"),
        sdp=sdp(40010, "8 101", "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"))
out["xc_answer"] = media(a["sdp"])
out["xc_answer_rtpmap"] = "a=rtpmap:0 PCMU/8000" in a["sdp"] and "PCMA" not in a["sdp"]
ulaw = bytes(range(0, 256, 2)) + bytes(range(1, 256, 2))[:32]          # 160 bytes of every kind
alaw = bytes(range(255, 0, -2)) + bytes(range(0, 64, 2))
caller, callee = sock(30010), sock(40010)
to_caller, to_callee = tuple(out["xc_answer"][:2]), tuple(out["xc_offer"][:2])
got_caller, got_callee = exchange(caller, to_caller, callee, to_callee, ulaw, alaw, 0, 8)
want_callee = audioop.lin2alaw(audioop.ulaw2lin(ulaw, 2), 2)
want_caller = audioop.lin2ulaw(audioop.alaw2lin(alaw, 2), 2)
out["xc_callee_heard"] = [len(got_callee), sorted({pt for _, pt, _ in got_callee}),
                          all(p == want_callee for _, _, p in got_callee)]
out["xc_caller_heard"] = [len(got_caller), sorted({pt for _, pt, _ in got_caller}),
                          all(p == want_caller for _, _, p in got_caller)]
ev = bytes([5, 0x0a, 0x01, 0x40])   # digit 5, volume 10, 320 samples
got_caller, got_callee = exchange(caller, to_caller, callee, to_callee, ev, ev, 101, 101, 5)
out["xc_te"] = [sorted({(pt, p) == (101, ev) for _, pt, p in got_callee}),
                sorted({(pt, p) == (101, ev) for _, pt, p in got_caller})]
out["xc_delete"] = cmd(command="delete", **ids("xc-1", "ft"))["result"]
# codec offer: exactly the named codecs towards the callee
o = cmd(command="offer", **ids("xc-2", "ft"),
        sdp=sdp(30012, "9 0 101", "a=rtpmap:9 G722/8000\r\n" + te), codec={"offer": ["PCMA"]})
out["offer_only"] = media(o["sdp"])[2]
cmd(command="delete", **ids("xc-2", "ft"))
out["xc_refused"] = cmd(command="offer", **ids("xc-3", "ft"), sdp=sdp(30014),
                        codec={"transcode": ["AMR-WB"]}).get("error-reason")

# ---- direction ----
o = cmd(command="offer", **ids("dir-1", "ft"), sdp=sdp(30020), direction=["external", "internal"])
a = cmd(command="answer", **ids("dir-1", "ft", "tt"), sdp=sdp(40020))
out["dir"] = [media(o["sdp"])[0], media(a["sdp"])[0]]
cmd(command="delete", **ids("dir-1", "ft"))
out["dir_unknown"] = cmd(command="offer", **ids("dir-2", "ft"), sdp=sdp(30022),
                         direction=["external", "dmz"]).get("error-reason")
time.sleep(0.2)
out["mos_counted"] = mos_count() - mos0
print(json.dumps(out))
PY
) || fail "NG fork client: $out"
note "NG fork/transcode/direction: $out"
python3 - "$out" "$MEDIA_IP" "$MEDIA_IP2" <<'PY' || fail "NG fork checks: $out"
import json, sys
r, ip1, ip2 = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
assert r["fork_results"] == ["ok"] * 4
(f1_callee, f1_caller), (f2_callee, f2_caller) = r["fork_ports"]
assert len({tuple(f1_callee), tuple(f1_caller), tuple(f2_callee), tuple(f2_caller)}) == 4, "forks share ports"
assert r["fork_query"] == 2 and r["fork_loser_deleted"] == ["ok", 1]
assert r["fork_caller_got"][0] >= 25 and r["fork_caller_got"][1] == ["%s:%d b" % tuple(f1_caller)], r["fork_caller_got"]
assert r["fork_callee_got"][0] >= 25 and r["fork_callee_got"][1] == ["%s:%d a" % tuple(f1_callee)], r["fork_callee_got"]
assert r["block"] == "ok" and r["blocked_got"][0] >= 8 and r["blocked_got"][1] == 0, r["blocked_got"]
assert r["unblock"] == "ok" and min(r["unblocked_got"]) >= 8, r["unblocked_got"]
assert r["rtcp_relayed"] == [True, True], r["rtcp_relayed"]
assert 90000 <= r["rtt_us"] <= 140000, r["rtt_us"]
assert r["fork_bye"] == "ok" and r["fork_gone"] == "Unknown call-id"
assert r["xc_offer"][2] == ["8", "101"] and r["xc_offer_rtpmap"], r["xc_offer"]
assert r["xc_answer"][2] == ["0", "101"] and r["xc_answer_rtpmap"], r["xc_answer"]
assert r["xc_callee_heard"][0] >= 25 and r["xc_callee_heard"][1:] == [[8], True], r["xc_callee_heard"]
assert r["xc_caller_heard"][0] >= 25 and r["xc_caller_heard"][1:] == [[0], True], r["xc_caller_heard"]
assert r["xc_te"] == [[True], [True]], r["xc_te"]
assert r["xc_delete"] == "ok"
assert r["offer_only"] == ["8", "101"], r["offer_only"]
assert "G722, G729 and opus" in r["xc_refused"], r["xc_refused"]
assert r["dir"] == [ip1, ip2], r["dir"]
assert "Unknown interface 'dmz'" in r["dir_unknown"], r["dir_unknown"]
assert r["mos_counted"] >= 4, r["mos_counted"]   # fork winner's two legs + the transcoded call's
PY
wait_status "r['ng']['sessions'] == 0 and r['ports_free'] == $ports_total" 10 ||
	fail "ports not back after the deletes: $(mgwctl --json status)"
note "forks, transcoding, direction and quality over NG; every port back"
