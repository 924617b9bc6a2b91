#!/usr/bin/env bash
# A standby takes a dead node's calls through Redis. Two mgwd configurations share the media
# and SIP addresses and a Redis hash for the journal (a redis-server of the test's own, in its
# namespace): node A runs, node B is its standby. While A lives, B refuses to start (the hash
# belongs to a live mgwd). A call to echo is established on A with RTP flowing; A is killed
# with SIGKILL; B is started the way a supervisor would, again until it may (A's ownership
# expires within 3 s). B takes the call: RTP comes back within 1 s of B being ready, the BYE
# gets 200, the call record is written, and the hash is empty afterwards.
source "$(dirname "$0")/lib.sh"
SIP_RTP="$MGW_SRC/tests/integration/sip_rtp.py"
mgw_netns takeover
REDIS_PORT=6390
KEY="mgw:test:$$:calls"
nsx redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no \
	>"$WORK/redis.log" 2>&1 &
for _ in $(seq 50); do
	[ "$(nsx redis-cli -p $REDIS_PORT ping 2>/dev/null)" = PONG ] && break
	sleep 0.1
done
[ "$(nsx redis-cli -p $REDIS_PORT ping 2>/dev/null)" = PONG ] || fail "redis-server did not start: $(cat "$WORK/redis.log")"

node_conf() { # node_conf NAME SOCKET
	cat <<CONF
eal = { lcores = "0@0,1@1"; memory_mb = 256; file_prefix = "$PREFIX-$1"; };
dataplane = { workers = 1; mbufs = 4095; };
control = { socket = "$2"; };
journal = { redis = "127.0.0.1:$REDIS_PORT"; redis_key = "$KEY"; };
cdr = { file = "$WORK/cdr.jsonl"; };
log = { level = "info"; };
routes = ( { name = "echo"; prefix = "echo"; app = "echo"; } );
CONF
}
node_conf a "$WORK/a.sock" >"$WORK/a.conf"
node_conf b "$WORK/mgwd.sock" >"$WORK/b.conf" # mgwctl talks to B
CLEANUP_EXTRA='rm -rf "/var/run/dpdk/$PREFIX-a" "/var/run/dpdk/$PREFIX-b"'

ip netns exec "$NS" "$MGW_BIN/mgwd" -c "$WORK/a.conf" >"$WORK/mgwd.log" 2>&1 &
MGWD_PID=$!
mgw_wait_ready
note "node A up"
if ip netns exec "$NS" "$MGW_BIN/mgwd" -c "$WORK/b.conf" >"$WORK/b-refused.log" 2>&1; then
	fail "node B started while A was alive"
fi
grep -q "belong to a live mgwd" "$WORK/b-refused.log" || fail "B's refusal: $(cat "$WORK/b-refused.log")"
note "node B refused while A lives: $(grep -o 'the calls in .*' "$WORK/b-refused.log")"

nsx python3 "$SIP_RTP" "$TAP_ADDR" 12 echo >"$WORK/caller.json" 2>"$WORK/caller.err" &
CALLER=$!
for _ in $(seq 50); do
	[ "$(nsx redis-cli -p $REDIS_PORT hlen "$KEY")" = 1 ] && break
	sleep 0.1
done
[ "$(nsx redis-cli -p $REDIS_PORT hlen "$KEY")" = 1 ] || fail "the call is not in Redis"
sleep 2

kill -KILL "$MGWD_PID"
wait "$MGWD_PID" 2>/dev/null || true
killed_at=$(date +%s.%N)
note "node A killed"
mv "$WORK/mgwd.log" "$WORK/a.log"
started=
for i in $(seq 40); do # a supervisor restarting the standby
	ip netns exec "$NS" "$MGW_BIN/mgwd" -c "$WORK/b.conf" >"$WORK/mgwd.log" 2>&1 &
	MGWD_PID=$!
	for _ in $(seq 100); do
		grep -q "ready:" "$WORK/mgwd.log" 2>/dev/null && { started=1; break; }
		kill -0 "$MGWD_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$started" ] && break
	wait "$MGWD_PID" 2>/dev/null || true
	sleep 0.25
done
[ -n "$started" ] || fail "node B never started: $(cat "$WORK/mgwd.log")"
ready_at=$(date +%s.%N)
note "node B ready $(python3 -c "print(round($ready_at - $killed_at, 1))") s after A died (attempt $i)"
grep -q "journal: 1 of 1 call(s) restored" "$WORK/mgwd.log" ||
	fail "B did not take the call: $(grep -E 'journal|restored' "$WORK/mgwd.log")"

wait "$CALLER" || fail "the caller failed: $(cat "$WORK/caller.err") $(head -c 300 "$WORK/caller.json")"
python3 - "$WORK/caller.json" "$killed_at" "$ready_at" <<'PY' || fail "media or BYE after the takeover"
import json, sys
c, killed, ready = json.load(open(sys.argv[1]))["echo"], float(sys.argv[2]), float(sys.argv[3])
before = [t for t in c["echo"] if t < killed]
after = [t for t in c["echo"] if t > ready]
first = after[0] - ready if after else -1
print("--- %d sent, %d echoed by A, %d by B, the first %.3f s after B was ready, BYE %s"
      % (c["sent"], len(before), len(after), first, c["bye"]))
sys.exit(0 if len(before) >= 20 and after and first <= 1.0 and len(after) >= 20 and c["bye"] == 200 else 1)
PY
cid=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['echo']['call_id'])" "$WORK/caller.json")
grep -q "\"$cid\"" "$WORK/cdr.jsonl" || fail "no call record from B: $(cat "$WORK/cdr.jsonl")"
assert_clean
[ "$(nsx redis-cli -p $REDIS_PORT hlen "$KEY")" = 0 ] || fail "calls left in Redis"
note "B took the call, ended it on its BYE, and left Redis empty"
