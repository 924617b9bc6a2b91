# Shared helpers for the integration tests. Each test sources this file, then calls
# mgw_setup NAME [CONFIG-LINES]: a network namespace of its own (so it never touches the
# host's interfaces and cannot collide with a running `make run`), a real mgwd inside it on a
# net_tap port with its own lcores, file prefix and control socket, and a trap that stops
# everything and checks that mgwd exits cleanly (and, under ASan, without a report).
set -euo pipefail

MGW_BIN=${MGW_BIN:?MGW_BIN must point at build/bin}
MGW_SRC=${MGW_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SCEN="$MGW_SRC/tests/integration/scenarios"
TAP_ADDR=198.18.0.1
MEDIA_IP=198.18.0.2

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "--- $*"; }

# Run a command inside the test's namespace.
nsx() { ip netns exec "$NS" "$@"; }

mgwctl() {
	if [ -n "${MGW_PRIVATE_RUN:-}" ]; then # mgwd on its defaults, /run private to it
		nsenter -t "$MGWD_PID" -m -n "$MGW_BIN/mgwctl" "$@"
	else
		nsx "$MGW_BIN/mgwctl" -s "$WORK/mgwd.sock" "$@"
	fi
}

# JSON field from the control socket: jget CMD PYTHON-EXPR (on variable r = result)
jget() {
	mgwctl --json "$1" | python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print($2)"
}

mgw_cleanup() {
	local rc=$?
	set +e
	[ -n "${CLEANUP_EXTRA:-}" ] && eval "$CLEANUP_EXTRA"
	[ -n "${TSHARK_PIDS:-}" ] && capture_stop
	if [ -n "${MGWD_PID:-}" ] && kill -0 "$MGWD_PID" 2>/dev/null; then
		kill -TERM "$MGWD_PID"
		for _ in $(seq 100); do kill -0 "$MGWD_PID" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$MGWD_PID" 2>/dev/null; then
			echo "FAIL: mgwd did not stop within 10 s of SIGTERM" >&2
			kill -KILL "$MGWD_PID"; rc=1
		fi
		wait "$MGWD_PID"; local st=$?
		if [ $st -ne 0 ]; then echo "FAIL: mgwd exited with status $st" >&2; rc=1; fi
	fi
	if [ -f "$WORK/mgwd.log" ] && grep -qE "ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:" "$WORK/mgwd.log"; then
		echo "FAIL: sanitizer report in mgwd log" >&2; rc=1
	fi
	if [ $rc -ne 0 ] && [ -f "$WORK/mgwd.log" ]; then
		echo "=== mgwd log (last 60 lines) ===" >&2; tail -n 60 "$WORK/mgwd.log" >&2
	fi
	# Nothing started in the namespace may outlive the test.
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "/var/run/dpdk/$PREFIX"
	[ $rc -eq 0 ] && rm -rf "$WORK"
	exit $rc
}

mgw_netns() {
	local name=$1
	NS="mgwt-$name-$$"
	PREFIX="mgwt-$name-$$"
	WORK=$(mktemp -d "/tmp/mgwt-$name.XXXXXX")
	trap mgw_cleanup EXIT
	ip netns add "$NS"
	nsx ip link set lo up
}

mgw_wait_ready() {
	for _ in $(seq 300); do
		grep -q "ready:" "$WORK/mgwd.log" 2>/dev/null && break
		kill -0 "$MGWD_PID" 2>/dev/null || fail "mgwd exited during start-up"
		sleep 0.1
	done
	grep -q "ready:" "$WORK/mgwd.log" || fail "mgwd not ready within 30 s"
	note "mgwd ready in namespace $NS"
}

# kamailio_start PORT -A DEFINE...: Debian's Kamailio on udp 127.0.0.1:PORT in the test's
# namespace with tests/integration/kamailio-ng.cfg and the given defines; returns once it
# listens (KAM_PID set, log in $WORK/kamailio.log).
kamailio_start() {
	KAM_PORT=$1
	shift
	mkdir -p "$WORK/kamailio"
	ip netns exec "$NS" kamailio -f "$MGW_SRC/tests/integration/kamailio-ng.cfg" -DD -E -m 64 \
		-M 8 -Y "$WORK/kamailio" -A "KAM_PORT=$KAM_PORT" "$@" >"$WORK/kamailio.log" 2>&1 &
	KAM_PID=$!
	for _ in $(seq 100); do
		[ -n "$(nsx ss -Hlun "sport = :$KAM_PORT")" ] && return 0
		kill -0 "$KAM_PID" 2>/dev/null || fail "kamailio exited: $(tail -20 "$WORK/kamailio.log")"
		sleep 0.1
	done
	fail "kamailio not listening: $(tail -20 "$WORK/kamailio.log")"
}

# Wait until mgwd's control socket answers (for quiet log levels, where "ready:" is not logged).
mgw_wait_control() {
	local i
	for i in $(seq 300); do
		mgwctl --json status >/dev/null 2>&1 && return 0
		kill -0 "$MGWD_PID" 2>/dev/null || fail "mgwd exited during start-up"
		sleep 0.1
	done
	fail "mgwd not ready within 30 s"
}

# mgwd with no arguments at all, as `make run` starts it: its own network namespace and a
# private /run (control socket, DPDK runtime files), so that it cannot meet a running make run.
# mgw_setup_default NAME [MGWD ARGS...]
mgw_setup_default() {
	mgw_netns "$1"
	shift
	MGW_PRIVATE_RUN=1
	ip netns exec "$NS" unshare -m --propagation private \
		sh -c 'mount -t tmpfs mgwt /run && exec "$0" "$@"' "$MGW_BIN/mgwd" "$@" \
		>"$WORK/mgwd.log" 2>&1 &
	MGWD_PID=$!
	mgw_wait_ready
}

base_group() {
	grep -qE "(^|[^a-z_])$1 *[=:]" <<<"$extra" || printf '%s\n' "$2"
}

# mgw_setup NAME [extra config text appended to the generated file]
mgw_setup() {
	local name=$1 extra=${2:-}
	mgw_netns "$name"
	# Base groups, each left out when the test's own text defines that group.
	{
		base_group eal "eal = { lcores = \"0@0,1@1\"; memory_mb = 256; file_prefix = \"$PREFIX\"; };"
		base_group dataplane "dataplane = { workers = 1; mbufs = 4095; };"
		base_group control "control = { socket = \"$WORK/mgwd.sock\"; };"
		base_group journal "journal = { file = \"$WORK/calls.journal\"; };"
		base_group log "log = { level = \"debug\"; };"
		printf '%s\n' "$extra"
	} >"$WORK/mgwd.conf"
	# ip netns exec execs the program, so $! is mgwd itself (a shell function would not be).
	ip netns exec "$NS" "$MGW_BIN/mgwd" -c "$WORK/mgwd.conf" >"$WORK/mgwd.log" 2>&1 &
	MGWD_PID=$!
	mgw_wait_ready
}

# Wait up to $2 seconds (default 10) for a python expression over the status to hold.
wait_status() {
	local expr=$1 limit=${2:-10} i
	for i in $(seq $((limit * 10))); do
		[ "$(jget status "$expr")" = "True" ] && return 0
		sleep 0.1
	done
	return 1
}

# After each test: no call left and every media port back in the pool.
assert_clean() {
	wait_status "r['calls'] == 0 and r['streams'] == 0 and r['ports_free'] == r['ports_total']" 10 ||
		fail "not clean: $(mgwctl --json status)"
	note "clean: 0 calls, 0 streams, all ports free"
}

# Captures seen from outside, as a peer would: capture_start NAME [IFACE [FILTER]] runs tshark in
# the namespace and writes $WORK/NAME.pcap; by default on the tap's host side, UDP to or from
# the media address. Several may run at once; capture_stop ends them all.
capture_start() {
	local name=$1 iface=${2:-mgw0} filter=${3:-"udp and host $MEDIA_IP"}
	local log="$WORK/tshark-$name.log"
	ip netns exec "$NS" tshark -q -i "$iface" -f "$filter" -w "$WORK/$name.pcap" >"$log" 2>&1 &
	TSHARK_PIDS="${TSHARK_PIDS:-} $!"
	for _ in $(seq 100); do
		grep -q "Capturing on" "$log" && return 0
		sleep 0.1
	done
	fail "tshark did not start on $iface: $(cat "$log")"
}

capture_stop() {
	local pid
	sleep 0.5
	for pid in ${TSHARK_PIDS:-}; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in ${TSHARK_PIDS:-}; do wait "$pid" 2>/dev/null || true; done
	TSHARK_PIDS=
}

# udp_flows PCAP: one line per UDP flow of a capture, "SRC-IP:PORT DST-IP:PORT PACKETS".
udp_flows() {
	tshark -r "$1" -Y udp -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport 2>/dev/null |
		awk '{ n[$1 ":" $2 " " $3 ":" $4]++ } END { for (f in n) print f, n[f] }' | sort
}

# flow_count FLOWS SRC DST: packets from SRC to DST (IP:PORT each) in udp_flows' output FLOWS.
flow_count() {
	awk -v s="$2" -v d="$3" '$1 == s && $2 == d { n += $3 } END { print n + 0 }' "$1"
}

# assert_forwarded FLOWS WHAT IN-SRC IN-DST OUT-SRC OUT-DST MIN: at least MIN packets went from
# IN-SRC to IN-DST (the peer to mgwd), and of those between 95 % and 100 % came out again from
# OUT-SRC to OUT-DST (mgwd to the peer that must get them). Prints the counts.
assert_forwarded() {
	local flows=$1 what=$2 in out
	in=$(flow_count "$flows" "$3" "$4")
	out=$(flow_count "$flows" "$5" "$6")
	note "$what: $in packets $3 -> $4, $out packets $5 -> $6"
	[ "$in" -ge "$7" ] || fail "$what: only $in packets $3 -> $4 (want >= $7); flows: $(cat "$flows")"
	[ $((out * 100)) -ge $((in * 95)) ] && [ "$out" -le "$in" ] ||
		fail "$what: $in packets in but $out out $5 -> $6; flows: $(cat "$flows")"
}

# assert_only_flows FLOWS "SRC DST" ...: every flow that leaves the media address is one of these.
assert_only_flows() {
	local flows=$1 f; shift
	while read -r f; do
		local pair=${f% *} ok=0 want
		for want in "$@"; do [ "$pair" = "$want" ] && ok=1; done
		[ $ok -eq 1 ] || fail "unexpected media from mgwd: $f (expected only: $*)"
	done < <(grep "^$MEDIA_IP:" "$flows")
}

# sdp_media PCAP: the SDP of every SIP message in a capture, one line each:
# "FRAME SRC-PORT DST-PORT METHOD-OR-STATUS CSEQ-METHOD C-ADDRESS M-PORT".
sdp_media() {
	tshark -r "$1" -Y "sip and sdp" -T fields -E occurrence=f -e frame.number -e udp.srcport \
		-e udp.dstport -e sip.Method -e sip.Status-Code -e sip.CSeq.method \
		-e sdp.connection_info.address -e sdp.media.port 2>/dev/null |
		awk -F '\t' '{ print $1, $2, $3, ($4 != "" ? $4 : $5), $6, $7, $8 }'
}

# sdp_of SDP-FILE SRC-PORT DST-PORT WHAT: "IP:PORT" of the media in the first message from
# SRC-PORT to DST-PORT that is WHAT (a method or a status code) in sdp_media's output.
sdp_of() {
	awk -v s="$2" -v d="$3" -v w="$4" '$2 == s && $3 == d && $4 == w { print $6 ":" $7; exit }' "$1"
}

sipp_run() {
	# sipp_run NAME ARGS...: SIPp against mgwd, its statistics in $WORK/NAME_*.csv
	local name=$1; shift
	(cd "$WORK" && nsx sipp 127.0.0.1:5060 -i 127.0.0.1 -p 5061 -mi "$TAP_ADDR" -nostdin \
		-trace_err -error_file "$WORK/$name.err" \
		-timeout 60s -timeout_error "$@" >"$WORK/$name.out" 2>&1)
}

# sipp_callee NAME MEDIA-PORT SIPP-ARGS...: a SIPp callee on 127.0.0.1:5070 in the background
# (media on the tap's host side at MEDIA-PORT), output in $WORK/NAME.out; CALLEE is its pid.
sipp_callee() {
	local name=$1 mport=$2
	shift 2
	(cd "$WORK" && exec ip netns exec "$NS" sipp -i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" \
		-mp "$mport" -nostdin -m 1 -timeout 30s -timeout_error "$@" \
		>"$WORK/$name.out" 2>&1) &
	CALLEE=$!
}

# mkpcap FILE PT COUNT BYTE...: COUNT RTP packets, 20 ms apart, 160 payload bytes each, the
# BYTEs taking equal shares of the packets in order.
mkpcap() {
	python3 - "$@" <<'PY'
import struct, sys
f, pt, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fill = [int(b, 0) for b in sys.argv[4:]]
with open(f, 'wb') as o:
    o.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(n):
        body = bytes([fill[i * len(fill) // n]]) * 160
        rtp = struct.pack('!BBHII', 0x80, pt, i, 160 * i, 0x4d47) + body
        udp = struct.pack('!HHHH', 4000, 4000, 8 + len(rtp), 0) + rtp
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + udp
        eth = b'\0' * 12 + b'\x08\x00' + ip
        o.write(struct.pack('<IIII', i // 50, i % 50 * 20000, len(eth), len(eth)) + eth)
PY
}
