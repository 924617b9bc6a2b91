#!/usr/bin/env bash
# Relay pairs without SIP: media.create makes 20 pairs spread over four media addresses, whose
# peers are UDP sockets on the tap's host side. RTP sent both ways arrives, unchanged, at the
# other leg's peer and from the other leg's local address; nothing is lost or dropped. After
# latching, a packet from another port of the peer's IP is refused and counted as wrong_source.
# media.delete removes the pairs: later packets to their ports are dropped as no_stream.
source "$(dirname "$0")/lib.sh"
# Two workers (two lcores sharing the second CPU): the tap's kernel side spreads flows over
# both queues, so pairs are relayed by both, and neighbours learnt by one reach the other.
mgw_setup relay 'eal = { lcores = "0@0,1@1,2@1"; memory_mb = 256; file_prefix = "'"mgwt-relay-$$"'"; };
dataplane = { workers = 2; mbufs = 8191; media_ip_count = 4; };'

PAIRS=20
PKTS=50
mgwctl --json call media.create count=$PAIRS tag=t peer_a=$TAP_ADDR:30000 peer_b=$TAP_ADDR:40000 \
	>"$WORK/create.json" || fail "media.create failed: $(cat "$WORK/create.json")"
[ "$(jget status "r['media_pairs']")" = "$PAIRS" ] || fail "status does not show $PAIRS pairs"
[ "$(jget status "r['streams']")" = $((PAIRS * 2)) ] ||
	fail "status does not show $((PAIRS * 2)) streams"

# Drops that concern UDP to the media addresses, summed over the workers.
udp_drops() {
	local reasons="'bad_udp', 'no_stream', 'bad_rtp', 'stream_drop', 'wrong_source',
		'no_neighbour', 'tx_full'"
	jget status "sum(w['drops'][k] for w in r['worker_stats'] for k in ($reasons))"
}
drops_before=$(udp_drops)

cat >"$WORK/relay.py" <<'PY'
import json, select, socket, struct, sys, time

pairs = json.load(open(sys.argv[1]))["result"]["pairs"]
tap, n_pkts, phase = sys.argv[2], int(sys.argv[3]), sys.argv[4]
ips = [(p["a"].rsplit(":", 1)[0], p["b"].rsplit(":", 1)[0]) for p in pairs]
assert len({ip for pair in ips for ip in pair}) == 4, "pairs not spread over the pool"
assert all(a != b for a, b in ips), "the legs of a pair share an address"

def ep(s):
    ip, port = s.rsplit(":", 1)
    return ip, int(port)

def sock(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((tap, port))
    s.setblocking(False)
    return s

def rtp(seq, ssrc, tag):
    return struct.pack("!BBHII", 0x80, 0, seq, seq * 160, ssrc) + tag.ljust(160, b".")

legs = []  # (sending socket, destination local, receiving socket, expected source, name)
for i, p in enumerate(pairs):
    a, b = ep(p["a"]), ep(p["b"])
    sa, sb = sock(30000 + 2 * i), sock(40000 + 2 * i)
    legs.append((sa, a, sb, b, "p%d a>b" % i))
    legs.append((sb, b, sa, a, "p%d b>a" % i))
by_sock = {}
for leg in legs:
    by_sock.setdefault(leg[2].fileno(), leg[2])

got, bad = {}, []

def drain(deadline):
    while time.time() < deadline:
        r, _, _ = select.select(list(by_sock.values()), [], [], max(0, deadline - time.time()))
        if not r:
            return
        for s in r:
            while True:
                try:
                    data, src = s.recvfrom(2048)
                except BlockingIOError:
                    break
                tag = data[12:].rstrip(b".").decode()
                got[tag] = (s.getsockname(), src, data)

def expect_all(sent, what):
    missing = [t for t in sent if t not in got]
    if missing:
        bad.append("%s: %d of %d not delivered, e.g. %s"
                   % (what, len(missing), len(sent), missing[:3]))
    for t, (me, src, data) in got.items():
        if t not in sent:
            continue
        leg = sent[t]
        if me != leg[2].getsockname():
            bad.append("%s arrived at %s, not at %s" % (t, me, leg[2].getsockname()))
        if src != leg[3]:
            bad.append("%s came from %s, not from %s" % (t, src, leg[3]))
        if data != sent_data[t]:
            bad.append("%s changed on the way" % t)

sent, sent_data = {}, {}
warm = 0
if phase == "relay":
    # Two packets per leg first, apart: each stream validates its source (RFC 3550 takes the
    # second in-order packet) and each flow settles on a queue of the tap before the run.
    # (The tap's kernel side moves a flow to the queue its reply last left from, and a
    # packet arriving on the other worker reaches the owner through the hand-off ring,
    # behind later ones: RTP statistics would see that reordering.)
    for seq in (998, 999):
        for k, leg in enumerate(legs):
            leg[0].sendto(rtp(seq, 0x1000 + k, ("warm %d %d" % (k, seq)).encode()), leg[1])
            warm += 1
        drain(time.time() + 0.25)
    for seq in range(n_pkts):
        for k, leg in enumerate(legs):
            tag = "%s #%d" % (leg[4], seq)
            data = rtp(1000 + seq, 0x1000 + k, tag.encode())
            leg[0].sendto(data, leg[1])
            sent[tag], sent_data[tag] = leg, data
        drain(time.time() + 0.004)
    drain(time.time() + 1.0)
    expect_all(sent, "relayed")
    # After latching: the peer's IP from another port is not the peer.
    stray = sock(31999)
    stray.sendto(rtp(5000, 0xdead, b"stray"), legs[0][1])
    drain(time.time() + 0.5)
    if "stray" in got:
        bad.append("a packet from a wrong source port was relayed")
elif phase == "deleted":
    for k, leg in enumerate(legs[:10]):
        leg[0].sendto(rtp(2000, 0x2000 + k, b"late %d" % k), leg[1])
    drain(time.time() + 0.5)
    if got:
        bad.append("%d packets relayed after media.delete" % len(got))
received = len([t for t in sent if t in got])
print(json.dumps({"sent": len(sent), "received": received, "warm": warm, "bad": bad[:10]}))
sys.exit(1 if bad else 0)
PY

out=$(nsx python3 "$WORK/relay.py" "$WORK/create.json" "$TAP_ADDR" $PKTS relay) ||
	fail "relay: $out"
note "relay: $out"
sent=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['sent'])" "$out")
received=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['received'])" "$out")
warm=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['warm'])" "$out")
[ "$sent" -eq $((PAIRS * 2 * PKTS)) ] || fail "sent $sent packets, meant $((PAIRS * 2 * PKTS))"
note "packets per worker: $(jget status "[w['rx'] for w in r['worker_stats']]")"
[ "$(jget status "all(w['rx'] > 0 for w in r['worker_stats'])")" = True ] ||
	fail "one worker received nothing: $(jget status "r['worker_stats']")"

# Everything sent is accounted for: received, or dropped under a counted reason (none but
# the stray packet here).
wait_status "sum(w['drops']['wrong_source'] for w in r['worker_stats']) >= 1" 5 ||
	fail "the stray packet was not counted as wrong_source: $(mgwctl --json status)"
drops=$(( $(udp_drops) - drops_before ))
[ $((received + drops)) -eq $((sent + 1)) ] ||
	fail "sent $sent + 1 stray, received $received, counted drops $drops"
[ "$drops" -eq 1 ] || fail "expected only the stray packet dropped, got $drops drops"

stats=$(mgwctl --json call media.stats tag=t)
check() {
	python3 -c "import json,sys; r=json.loads(sys.argv[1])['result']; sys.exit(0 if ($1) else 1)" \
		"$stats"
}
check "r['pairs'] == $PAIRS" || fail "media.stats pairs: $stats"
check "r['rx'] == $sent + $warm and r['tx'] == $sent + $warm" ||
	fail "media.stats rx/tx do not match $sent + $warm warm-up packets: $stats"
check "r['wrong_source'] == 1" || fail "media.stats wrong_source is not 1: $stats"
check "r['lost'] == 0 and r['drops'] == 0" || fail "media.stats shows loss or drops: $stats"
note "media.stats: $stats"

del=$(mgwctl --json call media.delete tag=t |
	python3 -c "import json,sys; print(json.load(sys.stdin)['result']['deleted'])")
[ "$del" = "$PAIRS" ] || fail "media.delete deleted $del pairs, not $PAIRS"
no_stream_before=$(jget status "sum(w['drops']['no_stream'] for w in r['worker_stats'])")
out=$(nsx python3 "$WORK/relay.py" "$WORK/create.json" "$TAP_ADDR" $PKTS deleted) ||
	fail "after delete: $out"
wait_status "sum(w['drops']['no_stream'] for w in r['worker_stats']) == $no_stream_before + 10" 5 ||
	fail "packets to deleted pairs not counted as no_stream: $(mgwctl --json status)"
note "after media.delete: 10 packets dropped as no_stream, none relayed"

assert_clean
[ "$(jget status "r['media_pairs']")" = 0 ] || fail "media_pairs not 0 after delete"
