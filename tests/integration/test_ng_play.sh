#!/usr/bin/env bash
# NG play media / stop media / play DTMF, through mgw's player, heard by the peers:
# - play media (file= a WAV that sox made, 800 Hz for 1 s) to the caller: the reply gives its
#   duration; the caller hears 50 PCMU packets at 800 Hz from the address it sends to, one
#   source, consecutive sequence numbers; what the callee says is held from the caller
#   meanwhile and heard again after;
# - play media repeated 100 times, then stop media: the packets stop;
# - play DTMF code=7 as if from the caller: the callee gets RFC 4733 event 7 in its own
#   payload type, three end packets; towards a side without telephone-event it is refused;
# - block DTMF from the callee: its RFC 4733 events stop reaching the caller while its audio
#   still does; unblock DTMF: they pass again;
# - a file that is not audio, or none, is refused with its reason.
source "$(dirname "$0")/lib.sh"
mgw_setup ngplay ''
export PYTHONPATH=$(cd "$(dirname "$0")" && pwd) # bencode.py
sox -n -r 8000 -b 16 -c 1 "$WORK/tone.wav" synth 1 sine 800 vol 0.5 || fail "sox"
printf 'nothing to hear\n' >"$WORK/text.wav"

out=$(cd "$WORK" && nsx python3 - "$TAP_ADDR" "$WORK" <<'PY'
import json, math, re, select, socket, struct, sys, time, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import audioop
from bencode import ng_client
tap, work = sys.argv[1], sys.argv[2]
cmd = ng_client("p", decode=True)
ids = {"call-id": "play-1", "from-tag": "ft"}
def sdp(port, fmts, extra):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP %s\r\n%s" % (tap, tap, port, fmts, extra))
def media(s):
    return (re.search(r"c=IN IP4 (\S+)", s).group(1), int(re.search(r"m=audio (\d+)", s).group(1)))
def sock(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((tap, port)); return s
o = cmd(command="offer", sdp=sdp(30100, "0", "a=rtpmap:0 PCMU/8000\r\n"), **ids)
a = cmd(command="answer", sdp=sdp(40100, "0 101", "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"), **dict(ids, **{"to-tag": "tt"}))
to_callee, to_caller = media(o["sdp"]), media(a["sdp"])
caller, callee = sock(30100), sock(40100)

def run(seconds, during=None, later=None):
    """both sides talk (caller 'a', callee 'b') for @seconds, @during called after 10
    packets and @later after 30; what each received"""
    got = {caller: [], callee: []}
    seq, t_end = 0, time.time() + seconds
    while time.time() < t_end:
        caller.sendto(struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x111) + b"a" * 160, to_caller)
        callee.sendto(struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x222) + b"b" * 160, to_callee)
        seq += 1
        if during and seq == 10:
            during()
        if later and seq == 30:
            later()
        end = time.time() + 0.02
        while time.time() < end:
            r, _, _ = select.select([caller, callee], [], [], max(0, end - time.time()))
            for s in r:
                data, src = s.recvfrom(2048)
                got[s].append((time.time(), src, data))
    return got[caller], got[callee]

out = {}
rep = {}
def play():
    rep["play"] = cmd(command="play media", file=work + "/tone.wav", **ids)
got_caller, _ = run(2.0, play)
out["play_reply"] = [rep["play"]["result"], rep["play"].get("duration")]
played = [d for _, src, d in got_caller if d[12:13] != b"b"]
relayed = [(t, d) for t, _, d in got_caller if d[12:13] == b"b"]
t0 = min(t for t, _, d in got_caller if d[12:13] != b"b")
t1 = max(t for t, _, d in got_caller if d[12:13] != b"b")
out["played"] = len(played)
out["played_pt"] = sorted({d[1] & 0x7f for d in played})
out["played_ssrc"] = len({d[8:12] for d in played})
seqs = [struct.unpack("!H", d[2:4])[0] for d in played]
out["played_seq_ok"] = all((b - a) % 65536 == 1 for a, b in zip(seqs, seqs[1:]))
out["played_from"] = sorted({"%s:%d" % src for _, src, d in got_caller if d[12:13] != b"b"})
lin = audioop.ulaw2lin(b"".join(d[12:] for d in played), 2)
x = struct.unpack("<%dh" % (len(lin) // 2), lin)[:4000]
def power(f):
    w = 2 * math.pi * f / 8000; c = 2 * math.cos(w); s1 = s2 = 0.0
    for v in x: s1, s2 = v + c * s1 - s2, s1
    return s1 * s1 + s2 * s2 - c * s1 * s2
out["freq"] = max(range(300, 3400, 5), key=power)
out["held"] = [sum(1 for t, _ in relayed if t0 < t < t1), sum(1 for t, _ in relayed if t > t1 + 0.1)]
# repeated, then stopped
def play_long():
    rep["long"] = cmd(command="play media", file=work + "/tone.wav", **{"repeat-times": 100}, **ids)
def stop():
    rep["stop"] = cmd(command="stop media", **ids)
    rep["stop_t"] = time.time()
got_caller, _ = run(1.5, play_long, stop)
out["stop"] = [rep["long"]["result"], rep["stop"]["result"]]
tones = [t for t, _, d in got_caller if d[12:13] != b"b"]
out["before_stop"] = sum(1 for t in tones if t < rep["stop_t"])
out["after_stop"] = sum(1 for t in tones if t > rep["stop_t"] + 0.1)
out["relayed_after_stop"] = sum(1 for t, _, d in got_caller if d[12:13] == b"b" and t > rep["stop_t"] + 0.1)
# DTMF as if from the caller, to the callee
def dtmf():
    rep["dtmf"] = cmd(command="play DTMF", code="7", duration=100, **ids)
_, got_callee = run(1.0, dtmf)
ev = [d for _, _, d in got_callee if d[1] & 0x7f == 101]
out["dtmf"] = [rep["dtmf"]["result"], sorted({d[12] for d in ev}), sum(1 for d in ev if d[13] & 0x80),
               len({d[8:12] for d in ev})]
# towards the caller (no telephone-event): refused
out["dtmf_refused"] = cmd(command="play DTMF", code="1", **{"call-id": "play-1", "from-tag": "tt"}).get("error-reason")
# block DTMF from the callee: its events (pt 101) stop, its audio does not
def exchange_events(n=10):
    got = []
    for seq in range(n):
        callee.sendto(struct.pack("!BBHII", 0x80, 101, 5000 + seq, 99999, 0x222) +
                      bytes([3, 0x0a, 0, 160]), to_callee)
        callee.sendto(struct.pack("!BBHII", 0x80, 0, 6000 + seq, seq * 160, 0x222) + b"b" * 160,
                      to_callee)
        end = time.time() + 0.02
        while time.time() < end:
            r, _, _ = select.select([caller], [], [], max(0, end - time.time()))
            if r:
                got.append(caller.recv(2048))
    time.sleep(0.2)
    caller.setblocking(False)
    try:
        while True:
            got.append(caller.recv(2048))
    except BlockingIOError:
        pass
    caller.setblocking(True)
    return [sum(1 for d in got if d[1] & 0x7f == 101), sum(1 for d in got if d[1] & 0x7f == 0)]
tt = {"call-id": "play-1", "from-tag": "tt"}
out["block_dtmf"] = [cmd(command="block DTMF", **tt)["result"], exchange_events()]
out["unblock_dtmf"] = [cmd(command="unblock DTMF", **tt)["result"], exchange_events()]
out["bad_file"] = cmd(command="play media", file=work + "/text.wav", **ids).get("error-reason")
out["no_file"] = cmd(command="play media", **ids).get("error-reason")
out["delete"] = cmd(command="delete", **ids)["result"]
print(json.dumps(out))
PY
) || fail "NG play client: $out"
note "NG play: $out"
python3 - "$out" "$MEDIA_IP" <<'PY' || fail "NG play checks: $out"
import json, sys
r, ip = json.loads(sys.argv[1]), sys.argv[2]
assert r["play_reply"] == ["ok", 1000], r["play_reply"]
assert r["played"] == 50 and r["played_pt"] == [0] and r["played_ssrc"] == 1 and r["played_seq_ok"], r
assert len(r["played_from"]) == 1 and r["played_from"][0].startswith(ip + ":"), r["played_from"]
assert abs(r["freq"] - 800) <= 16, r["freq"]
assert r["held"][0] == 0 and r["held"][1] >= 10, r["held"]
assert r["stop"] == ["ok", "ok"] and r["before_stop"] >= 10 and r["after_stop"] == 0, r
assert r["relayed_after_stop"] >= 10, r
assert r["dtmf"][0] == "ok" and r["dtmf"][1] == [7] and r["dtmf"][2] == 3 and r["dtmf"][3] == 1, r["dtmf"]
assert "telephone-event" in r["dtmf_refused"], r["dtmf_refused"]
assert r["block_dtmf"][0] == "ok" and r["block_dtmf"][1][0] == 0 and r["block_dtmf"][1][1] >= 9, r["block_dtmf"]
assert r["unblock_dtmf"][0] == "ok" and min(r["unblock_dtmf"][1]) >= 9, r["unblock_dtmf"]
assert "text.wav" in r["bad_file"], r["bad_file"]
assert "No media file" in r["no_file"], r["no_file"]
assert r["delete"] == "ok"
PY
wait_status "r['ng']['sessions'] == 0" 10 || fail "the session is left"
assert_clean
