#!/usr/bin/env bash
# Kamailio drives mgwd. Debian's Kamailio, a stateful proxy with the rtpengine module pointed
# at mgwd's NG socket (tests/integration/kamailio-ng.cfg), routes a call from a caller of the
# test's own (sip_rtp.py) to a SIPp callee that echoes RTP; rtpengine_manage() has mgwd
# anchor the media. The caller's RTP must go through mgwd's DPDK port both ways (to the
# address and port mgwd put in the SDP, and back from it), mgwd's NG session must exist while
# the call is up, and after the BYE nothing must be left in mgwd.
source "$(dirname "$0")/lib.sh"
SIP_RTP="$MGW_SRC/tests/integration/sip_rtp.py"
mgw_setup kamailio 'log = { level = "info"; };'
kamailio_start 5062 -A 'CALLEE="sip:127.0.0.1:5070"' -A 'NG_SOCK="udp:127.0.0.1:2223"'
wait_status "r['ng']['pings'] >= 1" 10 || fail "kamailio's rtpengine module never pinged mgwd"
note "kamailio up; its rtpengine module pinged mgwd"

(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$MGW_SRC/bench/sipp/cps-callee.xml" \
	-i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" -mp 7000 -rtp_echo -nostdin -m 1 -timeout 30s \
	-timeout_error >"$WORK/callee.out" 2>&1) &
CALLEE_PID=$!
sleep 0.5
rx0=$(jget status "r['worker_stats'][0]['rx']")
SIP_TARGET=127.0.0.1:$KAM_PORT nsx python3 "$SIP_RTP" "$TAP_ADDR" 4 1000 >"$WORK/caller.json" \
	2>"$WORK/caller.err" &
CALLER=$!
wait_status "r['ng']['sessions'] == 1" 10 || fail "no NG session in mgwd: $(jget status "r['ng']")"
note "NG session up in mgwd: $(jget status "r['ng']")"
wait "$CALLER" || fail "the caller failed: $(cat "$WORK/caller.err") $(head -c 300 "$WORK/caller.json")"
wait "$CALLEE_PID" || fail "the callee failed: $(tail -20 "$WORK/callee.out")"
python3 - "$WORK/caller.json" <<'PY' || fail "media through mgwd: $(head -c 400 "$WORK/caller.json")"
import json, sys
c = json.load(open(sys.argv[1]))["1000"]
print("--- caller sent %d, %d came back through mgwd and the callee, BYE %s"
      % (c["sent"], len(c["echo"]), c["bye"]))
sys.exit(0 if len(c["echo"]) >= 0.9 * c["sent"] and c["bye"] == 200 else 1)
PY
rx=$(jget status "r['worker_stats'][0]['rx']")
[ $((rx - rx0)) -ge 300 ] || fail "the media did not cross mgwd's port: $((rx - rx0)) packets"
note "mgwd's worker relayed $((rx - rx0)) packets"
wait_status "r['ng']['sessions'] == 0 and r['ports_free'] == r['ports_total']" 10 ||
	fail "the BYE left something in mgwd: $(jget status "r['ng']")"
note "after the BYE: no NG session, every port free"
