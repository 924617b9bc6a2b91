#!/usr/bin/env bash
# The NG control protocol as Kamailio's rtpengine module speaks it, on mgwd's default
# 127.0.0.1:2223: a ping gets "pong" under the same cookie; the same datagram again gets the
# same reply without the command running twice; a command mgwd does not carry out yet gets an
# NG error saying so; malformed bencode gets an NG error; a source outside ng.allow gets
# nothing and is counted. status shows the counters.
source "$(dirname "$0")/lib.sh"
mgw_setup ng 'ng = { allow = ( "127.0.0.1", "127.0.0.2" ); };'

out=$(nsx python3 - <<'PY'
import json, socket

def bdecode(b, i=0):
    c = b[i:i + 1]
    if c == b"d":
        i, d = i + 1, {}
        while b[i:i + 1] != b"e":
            k, i = bdecode(b, i)
            d[k.decode()], i = bdecode(b, i)
        return d, i + 1
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n

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
r["offer"] = ask(b"9_1 d7:command5:offer7:call-id3:abc8:from-tag2:ft3:sdp3:v=0e")
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
