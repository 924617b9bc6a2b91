#!/usr/bin/env bash
# mgwd with no arguments, as `make run` starts it, answers the README's SIPp call: the tap's
# host side gets 198.18.0.1/24, SIP answers on 127.0.0.1:5060, the control socket sits at
# /run/mgw/mgwd.sock, and SIGTERM removes the tap again.
source "$(dirname "$0")/lib.sh"
mgw_setup_default default

nsx ip -4 addr show dev mgw0 | grep -q "inet 198.18.0.1/24" || fail "host side of mgw0 not configured"
[ "$(nsx cat /proc/sys/net/ipv6/conf/mgw0/disable_ipv6)" = 1 ] || fail "IPv6 left on mgw0"
nsx ping -c 2 -W 2 "$MEDIA_IP" >/dev/null || fail "media address does not answer ping"

# The README's command, word for word but for the output redirection.
(cd "$MGW_SRC" && nsx sipp -sf tools/sipp/echo-call.xml -p 5070 -mi 198.18.0.1 -m 1 127.0.0.1:5060 \
	-nostdin -timeout 60s -timeout_error >"$WORK/readme.out" 2>&1) ||
	fail "the README's SIPp call failed: $(tail -30 "$WORK/readme.out")"
grep -q "media from 198.18.0.1" "$WORK/mgwd.log" || fail "no RTP reached mgwd"
grep -qE "ended .* rtp in [1-9][0-9]* out [1-9]" "$WORK/mgwd.log" || fail "no RTP echoed"
assert_clean

kill -TERM "$MGWD_PID"
wait "$MGWD_PID" || fail "mgwd exited with $? on SIGTERM"
MGWD_PID=
nsx ip link show mgw0 >/dev/null 2>&1 && fail "mgw0 still there after shutdown"
note "SIGTERM: clean exit, tap removed"
