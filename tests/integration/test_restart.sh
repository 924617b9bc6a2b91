#!/usr/bin/env bash
# Calls survive a restart. Two calls are established: one to the echo application, one routed
# through the B2BUA to a SIPp callee that echoes RTP. A caller of the test's own (sip_rtp.py
# beside this file) sends RTP on both every 20 ms and notes when each packet comes back. mgwd is killed
# with SIGKILL mid-call and started again on the same configuration: it takes both calls back
# from its journal. Then, for each call: RTP comes back within 1 s of the new mgwd being
# ready, the caller's BYE gets 200 (through to the callee for the B2BUA call), and a call
# record is written. Afterwards nothing is left; a third start restores nothing. A stop with
# SIGQUIT (the upgrade path) hands a call to the next mgwd the same way, without a BYE.
source "$(dirname "$0")/lib.sh"
mgw_setup restart 'log = { level = "info"; };
routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); },
           { name = "echo"; prefix = "echo"; app = "echo"; } );'
printf 'cdr = { file = "%s"; };\n' "$WORK/cdr.jsonl" >>"$WORK/mgwd.conf"
mgwctl reload >/dev/null || fail "reload with a cdr file failed"

(cd "$WORK" && exec ip netns exec "$NS" sipp -sn uas -i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" \
	-mp 7000 -rtp_echo -nostdin -m 1 -timeout 60s >"$WORK/callee.out" 2>&1) &
CALLEE=$!

SIP_RTP="$MGW_SRC/tests/integration/sip_rtp.py"

nsx python3 "$SIP_RTP" "$TAP_ADDR" 14 echo 1000 >"$WORK/caller.json" 2>"$WORK/caller.err" &
CALLER=$!
wait_status "r['calls'] == 2 and r['sip']['dialogs'] == 3" 10 ||
	fail "the two calls were not set up: $(mgwctl --json status)"
sleep 3
[ "$(wc -l <"$WORK/calls.journal")" -ge 2 ] || fail "the journal holds no calls: $(cat "$WORK/calls.journal")"

note "kill -9 mgwd with both calls up"
kill -KILL "$MGWD_PID"
wait "$MGWD_PID" 2>/dev/null || true
killed_at=$(date +%s.%N)
mv "$WORK/mgwd.log" "$WORK/mgwd-1.log"
sleep 1
ip netns exec "$NS" "$MGW_BIN/mgwd" -c "$WORK/mgwd.conf" >"$WORK/mgwd.log" 2>&1 &
MGWD_PID=$!
mgw_wait_ready
ready_at=$(date +%s.%N)
grep -q "journal: 2 of 2 call(s) restored" "$WORK/mgwd.log" ||
	fail "the calls were not restored: $(grep -E 'journal|restored' "$WORK/mgwd.log")"
[ "$(jget status "r['calls']")" = 2 ] || fail "status after the restart: $(mgwctl --json status)"

wait "$CALLER" || fail "the caller failed: $(cat "$WORK/caller.err") $(cat "$WORK/caller.json")"
wait "$CALLEE" || fail "the callee saw a failed call: $(tail -20 "$WORK/callee.out")"
python3 - "$WORK/caller.json" "$killed_at" "$ready_at" <<'PY' || fail "media or BYE after the restart"
import json, sys
r, killed, ready = json.load(open(sys.argv[1])), float(sys.argv[2]), float(sys.argv[3])
ok = True
for user, c in r.items():
    before = [t for t in c["echo"] if t < killed]
    after = [t for t in c["echo"] if t > ready]
    first = after[0] - ready if after else None
    print("--- %s: %d sent, %d echoed before the kill, %d after the restart, first %.3f s "
          "after ready, BYE %s" % (user, c["sent"], len(before), len(after),
                                   first if first is not None else -1, c["bye"]))
    if len(before) < 20 or not after or first > 1.0 or len(after) < 20 or c["bye"] != 200:
        ok = False
sys.exit(0 if ok else 1)
PY
for user in echo 1000; do
	cid=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['$user']['call_id'])" "$WORK/caller.json")
	grep -q "\"$cid\"" "$WORK/cdr.jsonl" || fail "no call record for the $user call: $(cat "$WORK/cdr.jsonl")"
done
note "both calls took their BYE after the restart, with call records"
assert_clean
wait_status "r['sip']['dialogs'] == 0" 10 || fail "dialogs left: $(mgwctl --json status)"

note "SIGQUIT: stop, leaving an established call to the next mgwd"
(cd "$WORK" && exec ip netns exec "$NS" sipp -sn uas -i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" \
	-mp 7000 -rtp_echo -nostdin -m 1 -timeout 60s >"$WORK/callee2.out" 2>&1) &
CALLEE=$!
nsx python3 "$SIP_RTP" "$TAP_ADDR" 8 1000 >"$WORK/caller2.json" 2>"$WORK/caller2.err" &
CALLER=$!
wait_status "r['calls'] == 1" 10 || fail "the call was not set up"
sleep 2
kill -QUIT "$MGWD_PID"
wait "$MGWD_PID" || fail "mgwd exited with an error on SIGQUIT"
grep -q "stopping, the calls stay in the journal" "$WORK/mgwd.log" || fail "no SIGQUIT stop in the log"
mv "$WORK/mgwd.log" "$WORK/mgwd-2.log"
ip netns exec "$NS" "$MGW_BIN/mgwd" -c "$WORK/mgwd.conf" >"$WORK/mgwd.log" 2>&1 &
MGWD_PID=$!
mgw_wait_ready
grep -q "journal: 1 of 1 call(s) restored" "$WORK/mgwd.log" || fail "the call was not restored after SIGQUIT"
wait "$CALLER" || fail "the caller failed: $(cat "$WORK/caller2.err")"
wait "$CALLEE" || fail "the callee saw a failed call (a BYE on SIGQUIT?): $(tail -20 "$WORK/callee2.out")"
python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['1000']; sys.exit(0 if c['bye'] == 200 else 1)" \
	"$WORK/caller2.json" || fail "BYE after the SIGQUIT restart: $(cat "$WORK/caller2.json" | head -c 300)"
assert_clean
note "SIGQUIT handed the call over"
