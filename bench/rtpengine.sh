# bench/rtpengine.sh: rtpengine for the benches that measure mgwd beside it (bench/ng,
# bench/transcode). Sourced after tests/integration/lib.sh and mgw_netns: installs Debian's
# rtpengine-daemon when missing (its system-wide service stays off: it would take NG port
# 2223, mgwd's default), and starts one in the namespace.

rtpe_install() {
	if ! dpkg-query -W -f='${Status}' rtpengine-daemon 2>/dev/null | grep -q 'install ok installed'; then
		echo "installing rtpengine-daemon" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q --no-install-recommends rtpengine-daemon >/dev/null 2>&1 || {
			apt-get update -q >/dev/null
			apt-get install -y -q --no-install-recommends rtpengine-daemon >/dev/null
		}
		systemctl disable --now rtpengine-daemon >/dev/null 2>&1 || true
	fi
	RTPENGINE=$(command -v rtpengine || echo /usr/bin/rtpengine)
}

# rtpe_start CPU NG_PORT: rtpengine in $NS, user space (table -1), media on 127.0.0.1, one
# worker thread, every thread on CPU, deletes at once; RTPE_PID once it answers NG pings.
rtpe_start() {
	local cpu=$1 port=$2
	nsx taskset -c "$cpu" "$RTPENGINE" --foreground --table=-1 --interface=127.0.0.1 \
		--listen-ng=127.0.0.1:"$port" --port-min=30000 --port-max=60000 --num-threads=1 \
		--delete-delay=0 --timeout=600 --log-level="${RTPE_LOG:-3}" --log-stderr \
		--no-log-timestamps >"$WORK/rtpengine.log" 2>&1 &
	RTPE_PID=$!
	sleep 0.5
	for p in $(ip netns pids "$NS"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = rtpengine ] && RTPE_PID=$p
	done
	for _ in $(seq 50); do
		nsx python3 -c 'import socket,sys; s=socket.socket(2,2); s.settimeout(0.2); s.sendto(b"p d7:command4:pinge",("127.0.0.1",int(sys.argv[1]))); sys.exit(0 if b"pong" in s.recv(100) else 1)' "$port" 2>/dev/null && return 0
		kill -0 "$RTPE_PID" 2>/dev/null || { cat "$WORK/rtpengine.log" >&2; fail "rtpengine exited"; }
		sleep 0.2
	done
	fail "rtpengine does not answer NG on $port"
}

# rtpe_stop: the one rtpe_start started, if any (for a cleanup hook).
rtpe_stop() {
	[ -n "${RTPE_PID:-}" ] || return 0
	kill -CONT "$RTPE_PID" 2>/dev/null
	kill -TERM "$RTPE_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$RTPE_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$RTPE_PID" 2>/dev/null
	wait "$RTPE_PID" 2>/dev/null
	RTPE_PID=
	return 0
}
