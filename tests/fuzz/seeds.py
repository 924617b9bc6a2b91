#!/usr/bin/env python3
"""Writes the seed inputs of each fuzz target's corpus (tests/fuzz/corpus/<target>/seed-*).
Run it from anywhere; it rewrites only the seed-* files. Crash regression cases found by
fuzzing are kept beside them as crash-* and are never touched here."""
import json, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


SDP = ("v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
       "m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
       "a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n")
put("fuzz_sdp", "offer", SDP)
put("fuzz_sdp", "offer-lf", SDP.replace("\r\n", "\n"))
put("fuzz_sdp", "two-media", SDP + "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n")
put("fuzz_sdp", "hold", SDP.replace("a=sendrecv", "a=sendonly").replace("192.0.2.1\r\nt", "0.0.0.0\r\nt"))
put("fuzz_sdp", "dynamic-only", SDP.replace("RTP/AVP 0 8 101", "RTP/AVP 96 97")
    .replace("a=rtpmap:101 telephone-event/8000", "a=rtpmap:96 PCMA/8000\r\na=rtpmap:97 opus/48000/2"))


def sip(method, ruri, cseq, branch, body="", to_tag="", extra=""):
    return ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=%s;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=f1\r\nTo: <%s>%s\r\n"
            "Call-ID: seed-1@127.0.0.1\r\nCSeq: %d %s\r\nContact: <sip:alice@127.0.0.1:5071>\r\n"
            "%s%sContent-Length: %d\r\n\r\n%s"
            % (method, ruri, branch, ruri, ";tag=" + to_tag if to_tag else "", cseq, method,
               extra, "Content-Type: application/sdp\r\n" if body else "", len(body), body))


put("fuzz_sip", "invite-echo", sip("INVITE", "sip:echo@127.0.0.1", 1, "z9hG4bK-1", SDP))
put("fuzz_sip", "invite-b2bua", sip("INVITE", "sip:1234@127.0.0.1", 1, "z9hG4bK-2", SDP))
put("fuzz_sip", "invite-no-sdp", sip("INVITE", "sip:echo@127.0.0.1", 1, "z9hG4bK-3"))
put("fuzz_sip", "ack", sip("ACK", "sip:echo@127.0.0.1", 1, "z9hG4bK-4", to_tag="t1"))
put("fuzz_sip", "bye", sip("BYE", "sip:echo@127.0.0.1", 2, "z9hG4bK-5", to_tag="t1"))
put("fuzz_sip", "cancel", sip("CANCEL", "sip:echo@127.0.0.1", 1, "z9hG4bK-1"))
put("fuzz_sip", "options", sip("OPTIONS", "sip:127.0.0.1", 1, "z9hG4bK-6"))
put("fuzz_sip", "reinvite-hold", sip("INVITE", "sip:echo@127.0.0.1", 3, "z9hG4bK-7",
                                     SDP.replace("a=sendrecv", "a=sendonly"), to_tag="t1"))
put("fuzz_sip", "response-200", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-x\r\n"
    "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: r@x\r\nCSeq: 1 INVITE\r\n"
    "Content-Length: 0\r\n\r\n")
put("fuzz_sip", "rfc2543-no-branch", sip("INVITE", "sip:echo@127.0.0.1", 1, "12345", SDP))
put("fuzz_sip", "max-forwards-0", sip("INVITE", "sip:1234@127.0.0.1", 1, "z9hG4bK-8", SDP)
    .replace("Max-Forwards: 70", "Max-Forwards: 0"))
# the SDP body that made libosip2 5.3 read out of bounds (ends in a bare CR)
crash_body = "v=0\no=- 2 2 I 4 0\rt=0 0\rm=e 0 1\r"
put("fuzz_sip", "invite-bare-cr-sdp", sip("INVITE", "sip:echo@127.0.0.1", 1, "z9hG4bK-9", crash_body))
put("fuzz_sdp", "bare-cr", crash_body)

for name in sorted(os.listdir(os.path.join(ROOT, "docs", "examples"))):
    if name.endswith(".conf"):
        with open(os.path.join(ROOT, "docs", "examples", name), "rb") as f:
            put("fuzz_config", name, f.read())
put("fuzz_config", "empty", "")
put("fuzz_config", "routes", 'routes = ( { name = "a"; prefix = "1"; destinations = ( "127.0.0.1:5070", '
    '"udp:10.0.0.1:5060" ); }, { name = "e"; regex = "^9[0-9]+$"; app = "echo"; } );\n')
put("fuzz_config", "bad-type", 'media = { port_min = "x"; };\n')

for name, line in [
        ("help", '{"cmd":"help"}'),
        ("create", '{"cmd":"media.create","count":2,"tag":"t","peer_a":"10.0.0.1:30000","peer_b":"10.0.0.1:40000"}'),
        ("stats", '{"cmd":"media.stats","tag":"t"}'),
        ("delete", '{"cmd":"media.delete","tag":"t"}'),
        ("delete-ids", '{"cmd":"media.delete","ids":[1,2,3]}'),
        ("two-lines", '{"cmd":"help"}\n{"cmd":"media.stats"}'),
        ("not-json", 'status please'),
        ("unknown", '{"cmd":"nope","x":[1,{"y":null}]}')]:
    put("fuzz_api", name, line)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip4(a):
    return bytes(int(x) for x in a.split("."))


PORT_MAC = bytes([2, 0, 0, 0, 0, 1])
PEER_MAC = bytes([2, 0, 0, 0, 0, 2])


def eth(payload, ethertype=0x0800, dst=PORT_MAC):
    return dst + PEER_MAC + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, l4, options=b"", frag=0):
    ihl = 5 + len(options) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(options) + len(l4), 1, frag, 64,
                    proto, 0, ip4(src), ip4(dst)) + options
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + l4


def udp(src, dst, sport, dport, payload):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, len(u))
    c = csum(pseudo + u) or 0xffff
    return u[:6] + struct.pack("!H", c) + u[8:]


def rtp(seq, ssrc=0x1234, pt=0):
    return struct.pack("!BBHII", 0x80, pt, seq, seq * 160, ssrc) + b"\xff" * 160


def udp_frame(src, sport, dst, dport, payload):
    return eth(ipv4(src, dst, 17, udp(src, dst, sport, dport, payload)))


def codec_input(pair, packets):
    """fuzz_codec: byte 0 the codec pair, then [len][seq16][steps][payload] per packet."""
    out = bytes([pair])
    for seq, steps, payload in packets:
        out += bytes([len(payload)]) + struct.pack("!H", seq) + bytes([steps]) + payload
    return out


# pairs: in = codecs[b % 5], out = codecs[(b // 8) % 5]; 0 PCMU 1 PCMA 2 G722 3 G729 4 opus
put("fuzz_codec", "pcmu-to-g722", codec_input(0 + 8 * 2, [(i, 1, bytes([0xff - i]) * 160)
                                                          for i in range(6)]))
put("fuzz_codec", "g729-reordered-lost", codec_input(3 + 8 * 0, [(1, 1, bytes(range(20))),
                                                                (3, 0, bytes(range(20, 40))),
                                                                (2, 2, bytes(range(40, 60))),
                                                                (6, 3, bytes(range(22)))]))
put("fuzz_codec", "opus-to-pcma", codec_input(4 + 8 * 1, [(10, 1, bytes([0x78]) + bytes(40)),
                                                         (12, 2, bytes([0x08, 0x80, 0x01])),
                                                         (13, 3, b"")]))
put("fuzz_codec", "g722-to-opus", codec_input(2 + 8 * 4, [(i, 1, bytes([i * 7 % 256]) * 160)
                                                         for i in range(4)]))


put("fuzz_frames", "arp-request", eth(struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, PEER_MAC,
    ip4("10.0.0.2"), b"\0" * 6, ip4("10.0.0.10")), 0x0806, b"\xff" * 6))
put("fuzz_frames", "arp-reply", eth(struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, PEER_MAC,
    ip4("10.0.0.3"), PORT_MAC, ip4("10.0.0.11")), 0x0806))
put("fuzz_frames", "rtp-echo", udp_frame("10.0.0.2", 4000, "10.0.0.10", 30000, rtp(1)))
put("fuzz_frames", "rtp-relay-a", udp_frame("10.0.0.2", 40000, "10.0.0.10", 30002, rtp(7)))
put("fuzz_frames", "rtp-relay-b", udp_frame("10.0.0.3", 50000, "10.0.0.11", 30004, rtp(9, 0x99, 8)))
put("fuzz_frames", "rtcp-relay", udp_frame("10.0.0.2", 40001, "10.0.0.10", 30003,
    struct.pack("!BBHI", 0x80, 201, 1, 0x1234)))
put("fuzz_frames", "rtp-dtmf", udp_frame("10.0.0.2", 40000, "10.0.0.10", 30002,
    struct.pack("!BBHII", 0x80, 101, 3, 480, 0x1234) + bytes([5, 0x8a, 0, 160])))
put("fuzz_frames", "no-stream", udp_frame("10.0.0.2", 4000, "10.0.0.10", 31000, rtp(1)))
icmp = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping" * 8
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
put("fuzz_frames", "icmp-echo", eth(ipv4("10.0.0.2", "10.0.0.10", 1, icmp)))
put("fuzz_frames", "ip-options", eth(ipv4("10.0.0.2", "10.0.0.10", 17,
    udp("10.0.0.2", "10.0.0.10", 4000, 30000, rtp(2)), options=b"\x01\x01\x01\x00")))
put("fuzz_frames", "fragment", eth(ipv4("10.0.0.2", "10.0.0.10", 17,
    udp("10.0.0.2", "10.0.0.10", 4000, 30000, rtp(3)), frag=0x2000)))
put("fuzz_frames", "vlan", PORT_MAC + PEER_MAC + b"\x81\x00\x00\x05\x08\x00" +
    ipv4("10.0.0.2", "10.0.0.10", 17, udp("10.0.0.2", "10.0.0.10", 4000, 30000, rtp(4))))
# call journal records as echo.c and b2bua.c write them (persist.c's field names)
def addr(ip, port):
    return {"ip": ip, "port": port}
def dlg(cid, role, ltag, rtag, peer_port):
    return {"call_id": cid, "role": role, "local": "<sip:echo@127.0.0.1>;tag=" + ltag,
            "remote": "<sip:alice@127.0.0.1>;tag=" + rtag, "target": "sip:alice@127.0.0.1:5071",
            "local_cseq": 1234, "remote_cseq": 1, "peer": "127.0.0.1", "peer_port": peer_port}
codec0 = {"pt": 0, "name": "PCMU", "rate": 8000}
codec8 = {"pt": 8, "name": "PCMA", "rate": 8000}
sdp_rec = {"addr": addr("198.18.0.1", 30000), "codecs": [codec0, {"pt": 101, "name": "telephone-event", "rate": 8000}],
           "dir": 0, "ptime": 20, "audio_index": 0,
           "mlines": [{"media": "audio", "proto": "RTP/AVP", "fmt": "0"}]}
call_common = {"route": "r", "from": "sip:alice@127.0.0.1", "to": "sip:echo@127.0.0.1",
               "created_wall_ms": 1764300000000, "answered_wall_ms": 1764300000100}
echo_rec = {"call": dict(call_common, kind="echo"), "dlg": dlg("j1@x", "uas", "lt1", "rt1", 5071),
            "ep": addr("198.18.0.2", 34000), "sdp": "v=0\r\n", "sess_id": 7, "sdp_ver": 2,
            "remote": sdp_rec, "nego": {"codec": codec0, "te_pt": 101, "dir": 0, "ptime": 20},
            "seen": addr("198.18.0.1", 30000)}
def leg(cid, role, ltag, rtag, port, ep_port):
    return {"dlg": dlg(cid, role, ltag, rtag, port), "ep": addr("198.18.0.2", ep_port),
            "sess_id": 9, "sdp_ver": 1, "sdp_out": "v=0\r\n", "sdp": sdp_rec}
b2b_rec = {"call": dict(call_common, kind="b2bua"), "legs": [leg("j2@x", "uas", "lt2", "rt2", 5071, 34002),
           leg("j2b@mgw", "uac", "lt3", "rt3", 5070, 34004)],
           "plan": {"codec": [codec0, codec8], "te_pt": [101, -1], "transcode": True},
           "user": "1000", "b_call_id": "j2b@mgw", "hops": 69}
put("fuzz_journal", "echo", json.dumps({"j1@x;lt1": echo_rec}))
put("fuzz_journal", "b2bua", json.dumps({"j2@x;lt2": b2b_rec}))
put("fuzz_journal", "both", json.dumps({"j1@x;lt1": echo_rec, "j2@x;lt2": b2b_rec}))
put("fuzz_journal", "same-port-twice", json.dumps({"a;1": echo_rec, "b;2": dict(echo_rec, dlg=dlg("j9@x", "uas", "lt9", "rt9", 5071))}))
put("fuzz_journal", "unknown-kind", json.dumps({"k": {"call": dict(call_common, kind="conference")}}))

def benc(v):
    if isinstance(v, dict):
        return "d" + "".join(benc(k) + benc(v[k]) for k in sorted(v)) + "e"
    if isinstance(v, list):
        return "l" + "".join(benc(x) for x in v) + "e"
    return "%d:%s" % (len(v), v)
def ng_cmd(cookie, command, d):
    return cookie + " " + benc(dict(d, command=command, **{"call-id": "abc@xy"}))

for name, msg in [
        ("ping", "5323_1 d7:command4:pinge"),
        ("offer", "5323_2 d3:sdp%d:%s7:call-id6:abc@xy8:from-tag2:ft7:command5:offer5:flagsl14:trust-addressee"
                  % (len(SDP), SDP)),
        ("offer-answer-sdp", "7_9 d7:command6:answer7:call-id6:abc@xy8:from-tag2:ft6:to-tag2:tt3:sdp%d:%se"
                  % (len(SDP), SDP)),
        ("answer", "7_3 d7:command6:answer7:call-id6:abc@xy8:from-tag2:ft6:to-tag2:tte"),
        ("delete", "8_4 d7:command6:delete7:call-id6:abc@xy8:from-tag2:fte"),
        ("nested", "c d1:ad1:bd1:cl1:dl1:eeeeeee"),
        # several datagrams in a row (NUL between): forks, transcoding, direction, blocking
        ("fork", "\0".join([
            ng_cmd("f1", "offer", {"from-tag": "ft", "via-branch": "v1", "sdp": SDP}),
            ng_cmd("f2", "offer", {"from-tag": "ft", "via-branch": "v2", "sdp": SDP}),
            ng_cmd("f3", "answer", {"from-tag": "ft", "to-tag": "t1", "via-branch": "v1", "sdp": SDP}),
            ng_cmd("f4", "answer", {"from-tag": "ft", "to-tag": "t2", "via-branch": "v2", "sdp": SDP}),
            ng_cmd("f5", "delete", {"from-tag": "ft", "via-branch": "v2"}),
            ng_cmd("f6", "block media", {"from-tag": "ft"}),
            ng_cmd("f7", "offer", {"from-tag": "t1", "to-tag": "ft", "sdp": SDP}),
            ng_cmd("f8", "query", {}),
            ng_cmd("f9", "delete", {"via-branch": "bye"})])),
        ("transcode", "\0".join([
            ng_cmd("x1", "offer", {"from-tag": "ft", "sdp": SDP,
                                   "codec": {"mask": ["PCMU"], "transcode": ["PCMA"]},
                                   "direction": ["external", "internal"]}),
            ng_cmd("x2", "answer", {"from-tag": "ft", "to-tag": "tt",
                                    "sdp": SDP.replace("RTP/AVP 0", "RTP/AVP 8")}),
            ng_cmd("x3", "offer", {"from-tag": "ft", "sdp": SDP, "codec": {"offer": ["PCMA", "G722"]}})])),
        ("not-a-dict", "c li1ee")]:
    put("fuzz_ng", name, msg)

print("seeds written under", os.path.join(HERE, "corpus"))
