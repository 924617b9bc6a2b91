#!/usr/bin/env bash
# RFC 4733 digits reported by the data plane. A SIPp caller offering telephone-event plays
# SIPp's own DTMF pcaps (7, 3, 9, 1) into
# - an echo call: the call's record and the log name the caller's digits, all, in order,
#   none extra;
# - a B2BUA call to a SIPp callee that echoes what it receives: the digits cross mgwd to the
#   callee (telephone-event kept end to end) and come back, so both legs report 7391.
# The workers count every report (status, /metrics), and no digit is counted twice.
source "$(dirname "$0")/lib.sh"
mgw_setup dtmf 'routes = ( { name = "echo"; prefix = "echo"; app = "echo"; },
           { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );
log = { level = "info"; };'
printf 'cdr = { file = "%s"; };\n' "$WORK/cdr.jsonl" >>"$WORK/mgwd.conf"
mgwctl reload >/dev/null || fail "reload with a cdr file failed"

sipp_run echo -sf "$SCEN/dtmf_caller.xml" -s echo -mp 6000 -d 1000 -m 1 ||
	fail "echo caller: $(tail -30 "$WORK/echo.out")"
(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/dtmf_callee.xml" -i 127.0.0.1 \
	-p 5070 -mi "$TAP_ADDR" -mp 7000 -rtp_echo -nostdin -m 1 -timeout 30s -timeout_error \
	>"$WORK/callee.out" 2>&1) &
CALLEE=$!
sipp_run b2b -sf "$SCEN/dtmf_caller.xml" -s 1234 -mp 6002 -d 1000 -m 1 ||
	fail "b2b caller: $(tail -30 "$WORK/b2b.out")"
wait "$CALLEE" || fail "callee: $(tail -30 "$WORK/callee.out")"
wait_status "r['calls'] == 0" 10 || fail "calls left"

python3 - "$WORK/cdr.jsonl" <<'PY' || fail "digits in the call records: $(cat "$WORK/cdr.jsonl")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
echo = [r for r in recs if r.get("kind") == "echo"]
b2b = [r for r in recs if r.get("kind") == "b2bua"]
assert len(echo) == 1 and len(b2b) == 1, recs
print("--- echo call: caller sent %r; B2BUA call: caller %r, callee %r" % (
    echo[0].get("dtmf_caller"), b2b[0].get("dtmf_caller"), b2b[0].get("dtmf_callee")))
assert echo[0].get("dtmf_caller") == "7391" and "dtmf_callee" not in echo[0], echo[0]
assert b2b[0].get("dtmf_caller") == "7391" and b2b[0].get("dtmf_callee") == "7391", b2b[0]
PY
n=$(grep -c "DTMF '[0-9]' from the" "$WORK/mgwd.log")
[ "$n" -eq 12 ] || fail "expected 12 digits in the log (4 echo + 4 + 4 B2BUA), got $n"
grep -q "DTMF '7' from the caller, [0-9]* ms" "$WORK/mgwd.log" || fail "no digit line in the log"
reported=$(jget status "sum(w['dtmf'] for w in r['worker_stats'])")
[ "$reported" -eq 12 ] || fail "workers reported $reported digits, not 12"
note "12 digits reported once each, in order, on the legs that received them"
