#!/usr/bin/env bash
# Prometheus metrics at http://127.0.0.1:9180/metrics (mgwd's default), checked by a strict
# parser of the text exposition format 0.0.4 (every sample's family declared once with
# # HELP and # TYPE before its samples, names and label names well-formed, label values
# quoted and escaped, counters named *_total, no sample twice, values numbers), and moving
# with what happens: a SIP OPTIONS counts under its method, its 200 nowhere else, an NG ping
# under its command, a malformed SIP datagram as bad. Another path is a 404.
source "$(dirname "$0")/lib.sh"
mgw_setup metrics

cat >"$WORK/scrape.py" <<'PY'
import json, re, socket, sys, urllib.error, urllib.request

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')

def parse(text):
    assert text.endswith("\n"), "no final newline"
    types, helps, samples = {}, {}, {}
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = "line %d: %r" % (n, line)
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert NAME.match(name) and name not in helps, where
            helps[name] = True
        elif line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            assert NAME.match(name) and name not in types, where
            assert typ in ("counter", "gauge", "histogram", "summary", "untyped"), where
            assert name in helps, "TYPE before HELP: " + where
            assert not any(s[0] == name for s in samples), "TYPE after samples: " + where
            types[name] = typ
        else:
            m = SAMPLE.match(line)
            assert m, where
            name, labels = m.group(1), {}
            rest = m.group(3) or ""
            while rest:
                lm = LABEL.match(rest)
                assert lm and lm.group(1) not in labels, where
                labels[lm.group(1)] = lm.group(2)
                rest = rest[lm.end():]
            base = name
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram":
                    base = name[:-len(suffix)]
            assert base in types, "sample before its TYPE: " + where
            if base == name and types[name] == "histogram":
                raise AssertionError("histogram sample without _bucket/_sum/_count: " + where)
            if base != name and name.endswith("_bucket"):
                assert "le" in labels, "bucket without le: " + where
            if types[base] == "counter":
                assert name.endswith("_total"), where
            key = (name, tuple(sorted(labels.items())))
            assert key not in samples, "duplicate: " + where
            samples[key] = float(m.group(4))
    # histograms: buckets cumulative, +Inf last and equal to _count
    for h in [n for n, t in types.items() if t == "histogram"]:
        b = sorted(((float(dict(k[1])["le"]), v) for k, v in samples.items()
                    if k[0] == h + "_bucket"))
        assert b and b[-1][0] == float("inf"), "no +Inf bucket: " + h
        assert all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)), "not cumulative: " + h
        assert b[-1][1] == samples[(h + "_count", ())], "+Inf != count: " + h
    return samples

def scrape():
    with urllib.request.urlopen("http://127.0.0.1:9180/metrics", timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
        return parse(r.read().decode())

def get(s, name, **labels):
    return s[(name, tuple(sorted(labels.items())))]

before = scrape()
sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sip.bind(("127.0.0.1", 0)); sip.settimeout(2)
port = sip.getsockname()[1]
sip.sendto(("OPTIONS sip:mgw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-m1\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:mgw@127.0.0.1>\r\n"
            "Call-ID: metrics-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % port).encode(),
           ("127.0.0.1", 5060))
assert sip.recv(65535).startswith(b"SIP/2.0 200")
sip.sendto(b"this is not SIP", ("127.0.0.1", 5060))
ng = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); ng.settimeout(2)
ng.sendto(b"m1 d7:command4:pinge", ("127.0.0.1", 2223))
assert ng.recv(1000) == b"m1 d6:result4:ponge"
ng.sendto(b"m2 d7:command5:offer7:call-id1:x8:from-tag1:ye", ("127.0.0.1", 2223))
assert b"6:result5:error" in ng.recv(1000)
import time; time.sleep(0.2)
after = scrape()
d = lambda name, **l: get(after, name, **l) - get(before, name, **l)
assert d("mgw_sip_requests_total", method="OPTIONS") == 1
assert d("mgw_sip_requests_total", method="INVITE") == 0
assert d("mgw_sip_bad_total") == 1
assert d("mgw_ng_requests_total", command="ping", result="ok") == 1
assert d("mgw_ng_requests_total", command="ping", result="error") == 0
assert d("mgw_ng_requests_total", command="offer", result="error") == 1  # no SDP
assert d("mgw_ng_errors_total") == 1
assert get(after, "mgw_call_mos_count") == 0  # no call has ended yet
ports = [k for k in after if k[0] == "mgw_port_tx_bytes_total"]
assert ports and all(after[k] >= 0 for k in ports), "no per-port byte counters"
assert get(after, "mgw_media_ports") > 0 and get(after, "mgw_calls") == 0
try:
    urllib.request.urlopen("http://127.0.0.1:9180/nope", timeout=5)
    raise AssertionError("no 404")
except urllib.error.HTTPError as e:
    assert e.code == 404
print(json.dumps({"families": len({k[0] for k in after}), "samples": len(after)}))
PY
out=$(nsx python3 "$WORK/scrape.py" 2>&1) || fail "metrics: $out"
note "metrics: $out"
