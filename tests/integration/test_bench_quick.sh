#!/usr/bin/env bash
# mgw-bench against a real mgwd over memif, at a rate mgwd handles without effort (20k pps,
# 1000 streams = 500 relay pairs, 2 s): every packet sent is relayed, from the right leg to the
# right peer (the bench checks each packet's destination and that its source is mgwd's local
# endpoint of the pair's other leg), and mgwd's counters agree with the bench's. Then a run that deletes every second
# pair in the middle: no packet sent after media.delete replied arrives for a deleted pair,
# and the pairs still up keep relaying. The bench runs outside mgwd's namespace: memif uses a
# socket file, so the namespace does not matter for it.
source "$(dirname "$0")/lib.sh"

mgw_netns bench
BENCH_PREFIX="$PREFIX-gen"
CLEANUP_EXTRA='rm -rf "/var/run/dpdk/$BENCH_PREFIX"'
cat >"$WORK/mgwd.conf" <<CONF
eal = { lcores = "0@0,1@1"; memory_mb = 512; file_prefix = "$PREFIX"; };
dataplane = { workers = 1; mbufs = 8191; tap_iface = ""; media_ip = "198.19.0.10";
              media_ip_count = 4; media_prefix = 16; tap_address = "198.19.255.254/16";
              vdev = "net_memif0,role=server,socket=$WORK/bench.memif,socket-abstract=no,id=0"; };
media = { port_min = 1024; port_max = 65534; };
sip = { port = $((20000 + $$ % 20000)); };
control = { socket = "$WORK/mgwd.sock"; };
journal = { file = "$WORK/calls.journal"; };
log = { level = "debug"; };
CONF
ip netns exec "$NS" "$MGW_BIN/mgwd" -c "$WORK/mgwd.conf" >"$WORK/mgwd.log" 2>&1 &
MGWD_PID=$!
mgw_wait_ready

# bench NAME ARGS: run mgw-bench, its JSON in $WORK/NAME.json
bench() {
	local name=$1; shift
	timeout 60 "$MGW_BIN/mgw-bench" --target mgwd -s "$WORK/mgwd.sock" --memif "$WORK/bench.memif" \
		--file-prefix "$BENCH_PREFIX" -m 256 --mbufs 4095 --streams 1000 --pps 20000 \
		--warmup 0.5 --duration 2 --json "$@" >"$WORK/$name.json" 2>"$WORK/$name.log" ||
		fail "mgw-bench $name failed: $(tail -20 "$WORK/$name.log")"
	note "$name: $(cat "$WORK/$name.json")"
}
# check NAME PYTHON-CONDITION MESSAGE (on variable r = the bench's JSON object)
check() {
	python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" \
		"$WORK/$1.json" || fail "$1: $3: $(cat "$WORK/$1.json")"
}

bench steady
check steady "r['received'] > 0" "nothing was relayed"
check steady "r['sent'] >= 30000" "the bench sent too little for 20k pps over 2 s"
check steady "r['received'] == r['sent'] and r['lost'] == 0" "packets lost at 20k pps"
check steady "r['received_total'] == r['sent_total']" "packets lost outside the window"
check steady "r['foreign'] == 0 and r['misrouted'] == 0" "packets that were not ours or took the wrong leg"
check steady "r.get('wrong_source_leg') == 0" "packets relayed from elsewhere than the other leg of their pair"
check steady "r['silent_streams'] == 0" "a stream relayed nothing"
check steady "r['mgwd_rx'] == r['sent_total'] and r['mgwd_tx'] == r['received_total']" \
	"mgwd's counters disagree with the bench"
check steady "r['mgwd_drops'] == 0" "mgwd dropped packets"
check steady "r['lat_p50_us'] > 0 and r['lat_max_us'] >= r['lat_p99_us'] >= r['lat_p50_us']" \
	"latency percentiles are not ordered"
wait_status "r['streams'] == 0" 5 || fail "pairs left after the run: $(mgwctl --json status)"

bench delete --delete-half-at 1
check delete "r['late_deleted'] == 0" "packets sent after the delete reply were relayed for deleted pairs"
check delete "r['sent_deleted'] > 1000" "too few packets were sent to deleted pairs to show anything"
check delete "r['received'] > r['sent'] // 2" "the pairs left stopped relaying"
# Packets in flight towards a pair while it is deleted may be dropped (no_stream), nothing
# else: every packet not received is one mgwd counted, under that reason only.
check delete "r['sent_total'] - r['received_total'] == r['mgwd_drops'] and \
	r['mgwd_drops_total_by_reason'] in ('', 'no_stream=%d' % r['mgwd_drops'])" \
	"packets lost that mgwd did not count as sent to a deleted pair"
check delete "r['misrouted'] == 0 and r['foreign'] == 0" "packets that were not ours or took the wrong leg"
check delete "r.get('wrong_source_leg') == 0" "packets relayed from elsewhere than the other leg of their pair"
wait_status "r['streams'] == 0" 5 || fail "pairs left after the run: $(mgwctl --json status)"
note "bench: relayed without loss, nothing relayed for deleted pairs after the delete replied"
