#!/usr/bin/env bash
# NG (Kamailio's rtpengine module) transcoding through the decode -> jitter buffer -> encode
# pipeline. A PCMU caller (1000 Hz, with telephone-event 101) is offered on with
# codec transcode [G722, G729, opus]; three callees answer with only one of them each
# (G.729 at a ptime of 30 ms), sending a 700 Hz tone made with the codec's own library:
#  - the offer towards the callee keeps PCMU and adds the three in the order asked, each with
#    its rtpmap (Opus as a dynamic type with useinbandfec, G.729 with annexb=no);
#  - the answer towards the caller names PCMU (and telephone-event), not the callee's codec,
#    at the caller's packet time;
#  - each callee hears the caller's tone (decoded with its library, within 2 %) as one RTP
#    source in its own payload type, clock and packet time (G.729: 30 bytes every 30 ms);
#    the caller hears the callee's tone in PCMU, 20 ms packets;
#  - RFC 4733 events reach the G.722 callee in its own telephone-event type; the Opus callee
#    (another RTP clock) gets none;
#  - RTCP is terminated on a transcoded call: the caller's sender report does not reach the
#    callee; mgw sends the callee sender reports of its own source (the SSRC, timestamps and
#    packet count of what the callee receives) with a report block on the callee's stream,
#    and the callee's report block naming one of them gives mgw the round trip (query RTT);
#  - play media to the G.729 and Opus callees (a WAV of 800 Hz, 1 s): G.729 at its 30 ms,
#    30-byte packets, Opus in its payload type and 48 kHz clock, from one source each, that
#    decode to 800 Hz;
#  - in-band DTMF (media.inband_dtmf) in the decoded audio of the G.729 and Opus callees, who
#    took no telephone-event: a digit 7 in their codec is reported once (query DTMF);
#  - a codec mgw cannot transcode, or an offer with nothing to convert from, is refused.
source "$(dirname "$0")/lib.sh"
mgw_setup ngcodecs 'dataplane = { workers = 1; mbufs = 4095; };
media = { inband_dtmf = true; };'
export PYTHONPATH=$(cd "$(dirname "$0")" && pwd) # bencode.py, peercodec.py
ports_total=$(jget status "r['ports_total']")
sox -n -r 8000 -b 16 -c 1 "$WORK/tone.wav" synth 1 sine 800 vol 0.5 || fail "sox"

out=$(cd "$WORK" && nsx python3 - "$TAP_ADDR" "$WORK/tone.wav" <<'PY'
import json, math, re, select, socket, struct, sys, time, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import audioop
from bencode import ng_client
import peercodec as cx
tap, wav = sys.argv[1], sys.argv[2]
cmd = ng_client("c", decode=True)

def sdp(port, fmts, extra, ptime=""):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP %s\r\n%s%s" % (tap, tap, port, fmts, extra, ptime))

def media(s):
    return ((re.search(r"c=IN IP4 (\S+)", s).group(1), int(re.search(r"m=audio (\d+)", s).group(1))),
            re.search(r"m=audio \d+ \S+ ([\d ]+)", s).group(1).split())

def sock(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((tap, port)); return s

def tone(hz, rate, n, amp=8000):
    return [int(amp * math.sin(2 * math.pi * hz * i / rate)) for i in range(n)]

def goertzel(x, f, rate):
    k = 2 * math.cos(2 * math.pi * f / rate); a = b = 0.0
    for v in x:
        a, b = v + k * a - b, a
    return a * a + b * b - k * a * b

def dominant(x, rate):
    x = x[:rate // 2]
    best = max(range(200, 3401, 20), key=lambda f: goertzel(x, f, rate))
    return max(range(best - 20, best + 21, 2), key=lambda f: goertzel(x, f, rate))

def talk(caller, to_caller, callee, to_callee, name, pt, ptime, seconds=2.0, events=None,
         rtcp=None):
    """the caller sends PCMU 1000 Hz every 20 ms (and @events, RFC 4733 payloads, 101, after
    the audio), the callee its codec's 700 Hz every @ptime ms; what each receives. @rtcp:
    (the callee's RTCP socket, mgw's RTCP address for it, a dict): mgw's first sender report
    there is noted in the dict with how many packets the callee had by then, and answered
    100 ms later by a receiver report that says it was held 40 ms"""
    clock, rate = cx.RATES[name]
    enc, spf = cx.Encoder(name), rate * ptime // 1000
    y = tone(700, rate, spf * int(seconds * 1000 // ptime + 1))
    x = tone(1000, 8000, int(8000 * seconds) + 160)
    u = audioop.lin2ulaw(struct.pack("<%dh" % len(x), *x), 2)
    got = {caller: [], callee: []}
    t0, na, nb, rr_at = time.time(), 0, 0, None
    socks = [caller, callee] + ([rtcp[0]] if rtcp else [])
    while time.time() < t0 + seconds:
        now = time.time() - t0
        if rr_at and now >= rr_at:
            sr = rtcp[2]["sr"]
            mid = (struct.unpack("!I", sr[8:12])[0] & 0xffff) << 16 | struct.unpack("!I", sr[12:16])[0] >> 16
            rtcp[0].sendto(struct.pack("!BBHIIIIIII", 0x81, 201, 7, 0x222, struct.unpack(
                "!I", sr[4:8])[0], 0, 10, 0, mid, 40 * 65536 // 1000), rtcp[1])
            rr_at = None
        if now >= na * 0.02:
            caller.sendto(struct.pack("!BBHII", 0x80, 0, na, na * 160, 0x111) +
                          u[160 * na:160 * na + 160], to_caller)
            na += 1
        if now >= nb * ptime / 1000:
            callee.sendto(struct.pack("!BBHII", 0x80, pt, nb, nb * clock * ptime // 1000, 0x222) +
                          enc.encode(y[spf * nb:spf * (nb + 1)]), to_callee)
            nb += 1
        r, _, _ = select.select(socks, [], [], 0.002)
        for s in r:
            if rtcp and s is rtcp[0]:
                d = s.recv(2048)
                if d[1] == 200 and "sr" not in rtcp[2]:
                    rtcp[2].update(sr=d, before=list(got[callee]))
                    rr_at = time.time() - t0 + 0.1
                continue
            got[s].append(s.recv(2048))
    for i, ev in enumerate(events or []):
        caller.sendto(struct.pack("!BBHII", 0x80, 101, na + i, na * 160, 0x111) + ev, to_caller)
        time.sleep(0.02)
    end = time.time() + 0.4
    while time.time() < end:
        r, _, _ = select.select([caller, callee], [], [], 0.05)
        for s in r:
            got[s].append(s.recv(2048))
    return got[caller], got[callee]

def digit(callee, to_callee, name, pt, ptime):
    """digit 7 (852 + 1209 Hz, -10/-12 dBm0) for 180 ms in the callee's codec, then 300 ms
    of silence, as a new source"""
    clock, rate = cx.RATES[name]
    enc, spf = cx.Encoder(name), rate * ptime // 1000
    n_on, n = 180 // ptime, 480 // ptime
    for k in range(n):
        x = [int(22706 * (0.316 * math.sin(2 * math.pi * 852 * (k * spf + i) / rate) +
                          0.251 * math.sin(2 * math.pi * 1209 * (k * spf + i) / rate)))
             if k < n_on else 0 for i in range(spf)]
        callee.sendto(struct.pack("!BBHII", 0x80, pt, k, k * clock * ptime // 1000, 0x333) +
                      enc.encode(x), to_callee)
        time.sleep(ptime / 1000)
    time.sleep(0.2)

def rows(pkts):
    return [dict(pt=p[1] & 0x7f, m=p[1] >> 7, seq=struct.unpack("!H", p[2:4])[0],
                 ts=struct.unpack("!I", p[4:8])[0], ssrc=struct.unpack("!I", p[8:12])[0],
                 payload=p[12:]) for p in pkts]

def shape(rs, seq_rows=None):
    """@rs: audio packets; @seq_rows: every packet of the source (events share its numbers)"""
    seqs = [r["seq"] for r in (seq_rows or rs)]
    return dict(n=len(rs), pts=sorted({r["pt"] for r in rs}), ssrcs=len({r["ssrc"] for r in rs}),
                steps=sorted({(b["ts"] - a["ts"]) % (1 << 32) for a, b in zip(rs, rs[1:])}),
                seq_ok=all((b - a) % 65536 == 1 for a, b in zip(seqs, seqs[1:])),
                sizes=sorted({len(r["payload"]) for r in rs}))

te = "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
out = {}
port = 30200
for name, answer_pt, ptime in (("G722", None, 20), ("G729", None, 30), ("opus", None, 20)):
    cid = "codec-" + name
    o = cmd(command="offer", **{"call-id": cid, "from-tag": "ft"}, sdp=sdp(port, "0 101", te),
            codec={"transcode": ["G722", "G729", "opus/48000/2"]})
    to_callee, offered = media(o["sdp"])
    pts = {m.group(2): int(m.group(1)) for m in re.finditer(r"a=rtpmap:(\d+) (\S+?)/", o["sdp"])}
    pt = pts[name]
    fmtp = re.findall(r"a=fmtp:%d (\S+)" % pt, o["sdp"])
    callee_te = "a=rtpmap:101 telephone-event/8000\r\n" if name == "G722" else ""
    fmts = "%d 101" % pt if callee_te else "%d" % pt
    rtpmap = "a=rtpmap:%d %s/%s\r\n" % (pt, name, "48000/2" if name == "opus" else "8000")
    a = cmd(command="answer", **{"call-id": cid, "from-tag": "ft", "to-tag": "tt"},
            sdp=sdp(port + 100, fmts, rtpmap + callee_te, "a=ptime:%d\r\n" % ptime))
    to_caller, answered = media(a["sdp"])
    caller, callee = sock(port), sock(port + 100)
    rc_caller, rc_callee = sock(port + 1), sock(port + 101)
    # the caller's sender report: terminated at mgw (the callee never sees its SSRC)
    rc_caller.sendto(struct.pack("!BBHIIIIII", 0x80, 200, 6, 0x111, 0xabcd, 0x12340000, 0, 10,
                                 1600), (to_caller[0], to_caller[1] + 1))
    ev = [bytes([5, 0x0a, 0x01, 0x40]), bytes([5, 0x8a, 0x03, 0x20])] if name != "G729" else None
    # G.722: long enough for mgw's first RTCP report (1.25-3.75 s after the call began: RFC
    # 3550's half interval, randomised), answered as if held 40 ms: a ~60 ms round trip
    seen = {}
    got_caller, got_callee = talk(caller, to_caller, callee, to_callee, name, pt, ptime,
                                  seconds=4.5 if name == "G722" else 2.0, events=ev,
                                  rtcp=(rc_callee, (to_callee[0], to_callee[1] + 1), seen)
                                  if name == "G722" else None)
    rc, re_ = rows(got_caller), rows(got_callee)
    jitter = cmd(command="query", **{"call-id": cid, "from-tag": "ft"})["totals"]["callee"]["jitter"]
    rtcp = None
    if name == "G722":
        sr = seen.get("sr", bytes(52))
        ssrc, ntp_hi, ntp_lo, rtp_ts, pkts, octets = struct.unpack("!IIIIII", sr[4:28])
        rb = struct.unpack("!IIIIII", sr[28:52]) if sr[0] & 0x1f else None
        time.sleep(0.1)
        before = [r for r in rows(seen.get("before", got_callee[:1])) if r["pt"] == pt]
        rtcp = dict(ssrc_is_source=ssrc == before[0]["ssrc"], pkts=pkts, before=len(before),
                    octets=octets, audio_octets=sum(len(r["payload"]) for r in before),
                    ts_ahead=(rtp_ts - before[-1]["ts"]) % (1 << 32),
                    rb_ssrc=hex(rb[0]) if rb else None, rb_lost=rb[1] & 0xffffff if rb else None,
                    rtt=cmd(command="query", **{"call-id": cid, "from-tag": "ft"})
                    ["totals"]["callee"].get("RTT", 0))
    played = None
    if name in ("G729", "opus"):
        # an announcement to the callee, in its codec and packet time
        reply = cmd(command="play media", **{"call-id": cid, "from-tag": "tt"}, file=wav)
        callee.settimeout(0.5)
        pkts = []
        try:
            while True:
                pkts.append(callee.recv(2048))
        except socket.timeout:
            pass
        prs = rows(pkts)
        dec = cx.Decoder(name)
        pcm = []
        for r in prs:
            pcm.extend(dec.decode(r["payload"]))
        rate = cx.RATES[name][1]
        played = dict(reply=[reply.get("result"), reply.get("duration")], shape=shape(prs),
                      hz=dominant(pcm[rate // 10:], rate) if len(pcm) > rate * 6 // 10 else 0)
    heard = None
    if name != "G722":
        digit(callee, to_callee, name, pt, ptime)
        heard = cmd(command="query", **{"call-id": cid, "from-tag": "ft"})["totals"]["callee"].get("DTMF")
        heard = heard.decode() if isinstance(heard, bytes) else heard
    rc_caller.setblocking(False)
    rc_callee.setblocking(False)
    relayed = []
    for s in (rc_caller, rc_callee):
        try:
            while True:
                d = s.recv(2048)
                relayed.append(struct.unpack("!I", d[4:8])[0])
        except BlockingIOError:
            pass
    audio_callee = [r for r in re_ if r["pt"] == pt]
    dec = cx.Decoder(name)
    pcm = []
    for r in audio_callee:
        pcm.extend(dec.decode(r["payload"]))
    x = audioop.ulaw2lin(b"".join(r["payload"] for r in rc), 2)
    x = list(struct.unpack("<%dh" % (len(x) // 2), x))
    out[name] = dict(
        offered=offered, fmtp=fmtp, answered=answered,
        answer_rtpmap=[l for l in a["sdp"].split("\r\n") if l.startswith(("a=rtpmap", "a=ptime"))],
        callee=shape(audio_callee, re_), callee_jitter=jitter, callee_hz=dominant(pcm[len(pcm) // 3:], cx.RATES[name][1]),
        callee_events=sorted({(r["pt"], r["payload"][0]) for r in re_ if r["pt"] != pt}),
        caller=shape(rc), caller_hz=dominant(x[len(x) // 3:], 8000),
        rtcp=rtcp, played=played, heard=heard, rtcp_relayed=[hex(x) for x in relayed if x in (0x111, 0x222)],
        delete=cmd(command="delete", **{"call-id": cid, "from-tag": "ft"})["result"])
    for s in (caller, callee, rc_caller, rc_callee):
        s.close()
    port += 2
out["refused"] = cmd(command="offer", **{"call-id": "codec-x", "from-tag": "ft"},
                     sdp=sdp(port, "0", "a=rtpmap:0 PCMU/8000\r\n"),
                     codec={"transcode": ["AMR"]}).get("error-reason")
out["nothing"] = cmd(command="offer", **{"call-id": "codec-y", "from-tag": "ft"},
                     sdp=sdp(port, "3", "a=rtpmap:3 GSM/8000\r\n"),
                     codec={"transcode": ["G722"]}).get("error-reason")
print(json.dumps(out))
PY
) || fail "NG codec client: $out"
note "NG transcoding: $out"
python3 - "$out" <<'PY' || fail "NG transcoding checks: $out"
import json, sys
r = json.loads(sys.argv[1])
for name, step, ptime, size in (("G722", 160, 20, 160), ("G729", 240, 30, 30), ("opus", 960, 20, None)):
    c = r[name]
    print("---", name, json.dumps(c))
    assert c["offered"][0] == "0" and c["offered"][-1] == "101", c["offered"]
    assert len(c["offered"]) == 5 and len(set(c["offered"])) == 5, c["offered"]
    assert c["answered"] == (["0", "101"] if name == "G722" else ["0"]), c["answered"]
    assert "a=rtpmap:0 PCMU/8000" in c["answer_rtpmap"] and "a=ptime:20" in c["answer_rtpmap"], c["answer_rtpmap"]
    assert not any(name in l for l in c["answer_rtpmap"]), c["answer_rtpmap"]
    want = {"G722": [], "G729": ["annexb=no"], "opus": ["useinbandfec=1"]}[name]
    assert c["fmtp"] == want, c["fmtp"]
    cal = c["callee"]
    assert cal["n"] >= 0.8 * 2000 / ptime and cal["ssrcs"] == 1 and cal["seq_ok"], cal
    assert cal["steps"] == [step], cal
    if size:
        assert cal["sizes"] == [size], cal
    assert abs(c["callee_hz"] - 1000) <= 20, c["callee_hz"]
    car = c["caller"]
    assert car["n"] >= 0.8 * 100 and car["pts"] == [0] and car["ssrcs"] == 1, car
    assert car["steps"] == [160] and car["sizes"] == [160] and car["seq_ok"], car
    assert abs(c["caller_hz"] - 700) <= 14, c["caller_hz"]
    assert c["delete"] == "ok"
    # in the callee's RTP clock units: well under a packet time (a 48 kHz stream measured
    # against an 8 kHz clock would show most of a packet's timestamps)
    assert c["callee_jitter"] < step // 4, c["callee_jitter"]
# the order asked: G722, G729, opus after the caller's PCMU
assert r["G722"]["offered"][1:3] == ["9", "18"], r["G722"]["offered"]
assert r["G722"]["callee_events"] == [[101, 5]], r["G722"]["callee_events"]
assert r["opus"]["callee_events"] == [], r["opus"]["callee_events"]
for name in ("G722", "G729", "opus"):
    assert r[name]["rtcp_relayed"] == [], (name, r[name]["rtcp_relayed"])
assert r["G729"]["heard"] == "7" and r["opus"]["heard"] == "7", (r["G729"]["heard"], r["opus"]["heard"])
for name, n, pt, step in (("G729", 34, 18, 240), ("opus", 50, int(r["opus"]["offered"][3]), 960)):
    pl = r[name]["played"]
    assert pl["reply"] == ["ok", 1000], (name, pl)
    assert n - 3 <= pl["shape"]["n"] <= n + 2 and pl["shape"]["pts"] == [pt], (name, pl)
    assert pl["shape"]["ssrcs"] == 1 and pl["shape"]["steps"] == [step] and pl["shape"]["seq_ok"], (name, pl)
    assert abs(pl["hz"] - 800) <= 16, (name, pl)
assert r["G729"]["played"]["shape"]["sizes"] in ([30], [10, 30], [20, 30]), r["G729"]["played"]
t = r["G722"]["rtcp"]
assert t["ssrc_is_source"], t
# the report counts what mgw's source had sent by then, and the payload octets
assert t["before"] <= t["pkts"] <= t["before"] + 3, t
assert t["octets"] == 160 * t["pkts"], t
# its timestamp is the instant's: at or after the last packet the callee had, by less than
# two packet times
assert t["ts_ahead"] < 320, t
assert t["rb_ssrc"] == "0x222" and t["rb_lost"] == 0, t
assert 50000 <= t["rtt"] <= 90000, t
assert "G722, G729 and opus" in r["refused"], r["refused"]
assert "no codec mgw can convert from" in r["nothing"], r["nothing"]
PY
grep -q "codec-G729: caller PCMU, callee G729 (transcoded)" "$WORK/mgwd.log" ||
	fail "mgwd did not log the G.729 call's codecs"
bad=$(jget status "sum(w['xcode_bad'] for w in r['worker_stats'])")
[ "$bad" = 0 ] || fail "the worker counted $bad unusable packets"
wait_status "r['ng']['sessions'] == 0 and r['ports_free'] == $ports_total" 10 ||
	fail "ports not back after the deletes: $(mgwctl --json status)"
note "NG transcoding PCMU <-> G.722, G.729 (30 ms), Opus: heard both ways, SDP both ways"
assert_clean
