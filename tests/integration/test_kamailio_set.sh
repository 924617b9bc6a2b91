#!/usr/bin/env bash
# Two mgwd nodes in one Kamailio rtpengine set (the way mgw scales out: by being a good
# member of the set Kamailio already spreads calls over). Node 1 is the test's usual mgwd
# (mgw0, media 198.18.0.2, NG 127.0.0.1:2223); node 2 has a tap of its own (mgw1, media
# 198.18.1.2, NG 127.0.0.2:2223). Calls through Kamailio are spread over both; then node 1
# is killed mid-run and the next calls all go to node 2 (Kamailio's own failover), with
# their media through node 2's DPDK port (whose gateway is its tap's kernel side: the peers are
# not on its tap's subnet).
source "$(dirname "$0")/lib.sh"
SIP_RTP="$MGW_SRC/tests/integration/sip_rtp.py"
# The peers' media lives on an address of the namespace's own (198.18.9.1 on lo), not on a
# node's tap, which goes with its node; each node reaches it through its tap's kernel side.
mgw_setup kamset 'log = { level = "info"; };
dataplane = { workers = 1; mbufs = 4095; gateway = "198.18.0.1"; };
ng = { allow = ( "127.0.0.1", "127.0.0.2" ); };'
nsx ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
PEER=198.18.9.1
nsx ip addr add $PEER/32 dev lo

cat >"$WORK/node2.conf" <<CONF
eal = { lcores = "0@0,1@1"; memory_mb = 256; file_prefix = "$PREFIX-2"; };
dataplane = { workers = 1; mbufs = 4095; vdev = "net_tap1,iface=mgw1"; tap_iface = "mgw1";
              tap_address = "198.18.1.1/24"; media_ip = "198.18.1.2"; gateway = "198.18.1.1"; };
sip = { port = 5064; };
control = { socket = "$WORK/node2.sock"; };
journal = { file = "$WORK/node2.journal"; };
ng = { listen = "127.0.0.2"; allow = ( "127.0.0.1", "127.0.0.2" ); };
metrics = { listen = "127.0.0.2"; };
log = { level = "info"; };
CONF
CLEANUP_EXTRA='rm -rf "/var/run/dpdk/$PREFIX-2"'
ip netns exec "$NS" "$MGW_BIN/mgwd" -c "$WORK/node2.conf" >"$WORK/node2.log" 2>&1 &
NODE2=$!
for _ in $(seq 300); do grep -q "ready:" "$WORK/node2.log" && break; sleep 0.1; done
grep -q "ready:" "$WORK/node2.log" || fail "node 2 not ready: $(tail -20 "$WORK/node2.log")"
node2() { nsx "$MGW_BIN/mgwctl" -s "$WORK/node2.sock" --json status |
	python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print($1)"; }

KAM_PORT=5062
kamailio_start "$KAM_PORT" -A 'CALLEE="sip:127.0.0.1:5070"' \
	-A 'NG_SOCK="udp:127.0.0.1:2223 udp:127.0.0.2:2223"'
note "two nodes and kamailio up"

# callee N: a SIPp callee for N calls that echoes their RTP
callee() {
	(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$MGW_SRC/bench/sipp/cps-callee.xml" \
		-i 127.0.0.1 -p 5070 -mi $PEER -mp 7000 -rtp_echo -nostdin -m "$1" -timeout 60s \
		>"$WORK/callee-$2.out" 2>&1) &
	CALLEE=$!
	sleep 0.3
}
# call NAME: through Kamailio with RTP for 1.5 s; prints ok when it came back and BYE got 200
call() {
	# fixed Call-IDs: Kamailio picks the node by hashing the Call-ID, and these spread
	SIP_CALL_ID="kamset-$1@test" SIP_TARGET=127.0.0.1:$KAM_PORT nsx python3 "$SIP_RTP" $PEER 1.5 1000 \
		>"$WORK/call-$1.json" 2>"$WORK/call-$1.err" || true
	python3 - "$WORK/call-$1.json" <<'PY'
import json, sys
try:
    c = json.load(open(sys.argv[1]))["1000"]
except Exception:
    print("failed"); sys.exit(0)
print("ok" if len(c["echo"]) >= 0.8 * c["sent"] and c["bye"] == 200 else "failed")
PY
}

callee 4 a
n1_before=$(jget status "r['ng']['commands']")
n2_before=$(node2 "r['ng']['commands']")
for i in 1 2 3 4; do
	[ "$(call "a$i")" = ok ] || fail "call a$i through the set failed: $(cat "$WORK/call-a$i.err")"
done
wait "$CALLEE" || true
n1=$(( $(jget status "r['ng']['commands']") - n1_before ))
n2=$(( $(node2 "r['ng']['commands']") - n2_before ))
note "4 calls: NG commands on node 1: $n1, node 2: $n2"
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || fail "the calls were not spread over both nodes"

kill -KILL "$MGWD_PID"
wait "$MGWD_PID" 2>/dev/null || true
MGWD_PID=
note "node 1 killed"
callee 4 b
n2_before=$(node2 "r['ng']['commands']")
rx2_before=$(node2 "r['worker_stats'][0]['rx']")
ok=0
for i in 1 2 3 4; do
	[ "$(call "b$i")" = ok ] && ok=$((ok + 1))
done
wait "$CALLEE" || true
n2=$(( $(node2 "r['ng']['commands']") - n2_before ))
rx2=$(( $(node2 "r['worker_stats'][0]['rx']") - rx2_before ))
note "after the kill: $ok of 4 calls completed, NG commands on node 2: $n2, its worker relayed $rx2 packets"
[ "$ok" -eq 4 ] || fail "calls failed after node 1 died: $(tail -30 "$WORK/kamailio.log")"
[ "$n2" -ge 12 ] && [ "$rx2" -ge 400 ] || fail "node 2 did not take the calls"
[ "$(node2 "r['ng']['sessions']")" = 0 ] || fail "sessions left on node 2"
kill -TERM "$NODE2"
wait "$NODE2" || fail "node 2 did not stop cleanly"
