#!/usr/bin/env bash
# docs/examples/b2bua.conf as it is, with the README's commands: SIPp as the callee on
# 127.0.0.1:5070, SIPp calling 1000 through mgw (routed, media relayed both ways), a call to
# echo (the echo application), and a call to a user no route matches (404).
source "$(dirname "$0")/lib.sh"
mgw_setup_default example -c "$MGW_SRC/docs/examples/b2bua.conf"

ip netns exec "$NS" sipp -sn uas -p 5070 -i 127.0.0.1 -mi 198.18.0.1 -rtp_echo -m 1 -nostdin \
	-timeout 60s >"$WORK/uas.out" 2>&1 &
UAS_PID=$!
sleep 0.5
(cd "$MGW_SRC" && nsx sipp -sf tools/sipp/echo-call.xml -s 1000 -p 5071 -mi 198.18.0.1 -m 1 \
	127.0.0.1:5060 -nostdin -timeout 60s -timeout_error >"$WORK/routed.out" 2>&1) ||
	fail "routed call failed: $(tail -20 "$WORK/routed.out")"
wait "$UAS_PID" || fail "the callee saw a failed call: $(tail -20 "$WORK/uas.out")"
grep -q "answered by .*127.0.0.1:5070" "$WORK/mgwd.log" || fail "not routed to the callee"
cdr=$(grep '"kind":"b2bua"' "$WORK/mgwd.log" | tail -1)
python3 - "$cdr" <<'PY' || fail "media did not cross both ways: $cdr"
import json, sys
r = json.loads(sys.argv[1].split("cdr: ", 1)[1])
a, b = r["a_to_b"], r["b_to_a"]
print("--- relayed caller->callee %d, callee->caller %d" % (a["rtp_relayed"], b["rtp_relayed"]))
sys.exit(0 if a["rtp_relayed"] > 100 and b["rtp_relayed"] > 100 else 1)
PY

(cd "$MGW_SRC" && nsx sipp -sf tools/sipp/echo-call.xml -s echo -p 5071 -mi 198.18.0.1 -m 1 \
	127.0.0.1:5060 -nostdin -timeout 60s -timeout_error >"$WORK/echo.out" 2>&1) ||
	fail "echo call failed: $(tail -20 "$WORK/echo.out")"
grep -qE "call: ended .* rtp in [1-9][0-9]* out [1-9]" "$WORK/mgwd.log" || fail "echo did not echo"

(cd "$MGW_SRC" && nsx sipp -sf tools/sipp/echo-call.xml -s alice -p 5071 -mi 198.18.0.1 -m 1 \
	127.0.0.1:5060 -nostdin -timeout 20s >"$WORK/404.out" 2>&1) && fail "a call to alice succeeded"
grep -q "404" "$WORK/404.out" || fail "no 404 for an unrouted user: $(tail -20 "$WORK/404.out")"
note "routed, echo and 404 as documented"
assert_clean
