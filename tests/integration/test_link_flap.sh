#!/usr/bin/env bash
# A port whose peer goes away: mgw-bench (the memif client) is killed with SIGKILL in the middle
# of a flat-out run, five times over. Each time mgwd must stay up, see the link go down (the
# port's status and a log line), and relay again once a new bench connects: a last run at a
# rate mgwd handles without effort must lose nothing and take no wrong leg.
source "$(dirname "$0")/lib.sh"

mgw_netns linkflap
BENCH_PREFIX="$PREFIX-gen"
CLEANUP_EXTRA='pkill -KILL -f "file-prefix $BENCH_PREFIX" 2>/dev/null; rm -rf "/var/run/dpdk/$BENCH_PREFIX"'
cat >"$WORK/mgwd.conf" <<CONF
eal = { lcores = "0@0,1@1"; memory_mb = 512; file_prefix = "$PREFIX"; };
dataplane = { workers = 1; mbufs = 8191; tap_iface = ""; media_ip = "198.19.0.10";
              media_ip_count = 4; media_prefix = 16; tap_address = "198.19.255.254/16";
              vdev = "net_memif0,role=server,socket=$WORK/bench.memif,socket-abstract=no,id=0"; };
media = { port_min = 1024; port_max = 65534; };
sip = { port = $((20000 + $$ % 20000)); };
control = { socket = "$WORK/mgwd.sock"; };
journal = { file = "$WORK/calls.journal"; };
log = { level = "info"; };
CONF
ip netns exec "$NS" "$MGW_BIN/mgwd" -c "$WORK/mgwd.conf" >"$WORK/mgwd.log" 2>&1 &
MGWD_PID=$!
mgw_wait_ready

link() { mgwctl --json status >"$WORK/st.json" 2>"$WORK/st.err" || { echo "mgwctl: $(cat "$WORK/st.err")" >&2; return 0; }; python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['result']['ports'][0]['link'])" "$WORK/st.json"; }

bench_args=(--target mgwd -s "$WORK/mgwd.sock" --memif "$WORK/bench.memif"
	--file-prefix "$BENCH_PREFIX" -m 256 --mbufs 4095 --streams 1000)

for round in 1 2 3 4 5; do
	"$MGW_BIN/mgw-bench" "${bench_args[@]}" --pps 0 --warmup 0.2 --duration 5 --json \
		>"$WORK/killed-$round.json" 2>"$WORK/killed-$round.log" &
	pid=$!
	for _ in $(seq 100); do [ "$(link)" = up ] && break; sleep 0.05; done
	[ "$(link)" = up ] || fail "round $round: the link never came up"
	sleep 1 # flat out by now
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	kill -0 "$MGWD_PID" 2>/dev/null || fail "round $round: mgwd died when the bench was killed"
	for _ in $(seq 50); do [ "$(link)" = down ] && break; sleep 0.1; done
	[ "$(link)" = down ] || fail "round $round: mgwd still sees the link up"
	rm -rf "/var/run/dpdk/$BENCH_PREFIX"
	note "round $round: bench killed mid-run, mgwd up, link down"
done
grep -q "link down" "$WORK/mgwd.log" || fail "no log line for the link going down"
mgwctl call media.delete tag=bench >/dev/null # what the killed benches left

"$MGW_BIN/mgw-bench" "${bench_args[@]}" --pps 20000 --warmup 0.5 --duration 2 --json \
	>"$WORK/after.json" 2>"$WORK/after.log" || fail "mgw-bench after the flaps: $(tail "$WORK/after.log")"
python3 - "$WORK/after.json" <<'PY' || fail "relay after the flaps: $(cat "$WORK/after.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r['sent'] >= 30000, r
assert r['received'] == r['sent'] and r['lost'] == 0, r
assert r['misrouted'] == 0 and r['foreign'] == 0 and r['silent_streams'] == 0, r
PY
[ "$(link)" = down ] || { sleep 1; [ "$(link)" = down ]; } || fail "link still up after the last bench left"
wait_status "r['streams'] == 0" 5 || fail "pairs left: $(mgwctl --json status)"
note "mgwd survived five killed benches and relays without loss afterwards"
