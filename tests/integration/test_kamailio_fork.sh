#!/usr/bin/env bash
# Kamailio forks a call to two callees and drives mgwd per fork (kamailio-ng.cfg with FORK:
# via-branch=auto-next). The losing callee offers early media (183 with SDP) and is cancelled
# when the other answers. mgwd must hold two branches of the call while both ring (each
# fork's offer and answer on ports of its own), one once the loser's 487 made Kamailio delete
# its fork by via-branch, relay the caller's RTP through the winner both ways, and keep
# nothing after the BYE.
source "$(dirname "$0")/lib.sh"
SIP_RTP="$MGW_SRC/tests/integration/sip_rtp.py"
SCEN="$MGW_SRC/tests/integration/scenarios"
mgw_setup kamfork 'log = { level = "info"; };'
export PYTHONPATH=$(cd "$(dirname "$0")" && pwd) # bencode.py
kamailio_start 5062 -A FORK -A 'CALLEE="sip:win@127.0.0.1:5070"' \
	-A 'CALLEE2="sip:lose@127.0.0.1:5072"' -A 'NG_SOCK="udp:127.0.0.1:2223"'
wait_status "r['ng']['pings'] >= 1" 10 || fail "kamailio's rtpengine module never pinged mgwd"

(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/ng_fork_winner.xml" -i 127.0.0.1 \
	-p 5070 -mi "$TAP_ADDR" -mp 7000 -rtp_echo -nostdin -m 1 -timeout 30s -timeout_error \
	>"$WORK/winner.out" 2>&1) &
WIN_PID=$!
(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/ng_fork_loser.xml" -i 127.0.0.1 \
	-p 5072 -mi "$TAP_ADDR" -mp 7100 -nostdin -m 1 -timeout 30s -timeout_error \
	>"$WORK/loser.out" 2>&1) &
LOSE_PID=$!
sleep 0.5
# watch the call's branches in mgwd over NG while it runs
nsx python3 - >"$WORK/branches.json" 2>&1 <<'PY' &
import json, socket, time
from bencode import ng_client
cmd = ng_client("w", timeout=1)
seen, end = [], time.time() + 8
while time.time() < end:
    calls = cmd(command="list")["calls"]
    if calls:
        q = cmd(command="query", **{"call-id": calls[0].decode()})
        if "branches" in q and (not seen or seen[-1] != q["branches"]):
            seen.append(q["branches"])
    time.sleep(0.03)
print(json.dumps(seen))
PY
WATCH=$!
SIP_TARGET=127.0.0.1:$KAM_PORT nsx python3 "$SIP_RTP" "$TAP_ADDR" 4 1000 >"$WORK/caller.json" \
	2>"$WORK/caller.err" || fail "the caller failed: $(cat "$WORK/caller.err") $(head -c 300 "$WORK/caller.json")"
wait "$WIN_PID" || fail "the answering callee failed: $(tail -20 "$WORK/winner.out")"
wait "$LOSE_PID" || fail "the cancelled callee failed: $(tail -20 "$WORK/loser.out")"
wait "$WATCH"
python3 - "$WORK/caller.json" "$WORK/branches.json" <<'PY' || fail "forked call through mgwd: $(head -c 300 "$WORK/caller.json") $(cat "$WORK/branches.json")"
import json, sys
c = json.load(open(sys.argv[1]))["1000"]
seen = json.load(open(sys.argv[2]))
print("--- caller sent %d, %d came back through mgwd and the answering fork, BYE %s; "
      "branches seen in mgwd: %s" % (c["sent"], len(c["echo"]), c["bye"], seen))
assert len(c["echo"]) >= 0.9 * c["sent"] and c["bye"] == 200
# two forks ringing, then the winner alone (the loser deleted by its via-branch)
assert seen[:2] == [2, 1] or seen[:3] == [1, 2, 1], seen
PY
wait_status "r['ng']['sessions'] == 0 and r['ports_free'] == r['ports_total']" 10 ||
	fail "the BYE left something in mgwd: $(jget status "r['ng']")"
note "after the BYE: no NG session, every port free"
