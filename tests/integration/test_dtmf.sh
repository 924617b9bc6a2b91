#!/usr/bin/env bash
# RFC 4733 digits reported by the data plane. A SIPp caller offering telephone-event plays
# SIPp's own DTMF pcaps (7, 3, 9, 1) into
# - an echo call: the call's record and the log name the caller's digits, all, in order,
#   none extra;
# - a B2BUA call to a SIPp callee that echoes what it receives: the digits cross mgwd to the
#   callee (telephone-event kept end to end) and come back, so both legs report 7391.
# - a B2BUA call to a callee that took no telephone-event: each digit reaches it as a SIP
#   INFO (application/dtmf-relay), in order, with its duration, and the caller's
#   telephone-event packets stop at mgwd.
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
sd0=$(jget status "sum(w['drops']['stream_drop'] for w in r['worker_stats'])")
(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/dtmf_info_callee.xml" -i 127.0.0.1 \
	-p 5070 -mi "$TAP_ADDR" -mp 7010 -nostdin -m 1 -timeout 30s -timeout_error -trace_msg \
	-message_file "$WORK/info_callee.msg" >"$WORK/info_callee.out" 2>&1) &
CALLEE=$!
sipp_run info -sf "$SCEN/dtmf_caller.xml" -s 1234 -mp 6004 -d 1000 -m 1 ||
	fail "INFO caller: $(tail -30 "$WORK/info.out")"
wait "$CALLEE" || fail "INFO callee: $(tail -30 "$WORK/info_callee.out")"
wait_status "r['calls'] == 0" 10 || fail "calls left"
python3 - "$WORK/info_callee.msg" <<'PY' || fail "SIP INFO digits: $(grep -A12 '^INFO' "$WORK/info_callee.msg" | head -40)"
import re, sys
msgs = open(sys.argv[1], errors="replace").read()
infos = re.findall(r"INFO sip:.*?Content-Type: application/dtmf-relay.*?\r?\n\r?\nSignal=(\S)\r?\nDuration=(\d+)",
                   msgs, re.S)
print("--- the callee without telephone-event got INFOs: %s" % infos)
assert "".join(d for d, _ in infos) == "7391", infos
assert all(100 <= int(ms) <= 1000 for _, ms in infos), infos
PY
# the caller's telephone-event packets did not go to the callee that took none
sd=$(jget status "sum(w['drops']['stream_drop'] for w in r['worker_stats'])")
[ $((sd - sd0)) -ge 36 ] || fail "telephone-event towards a callee without it: $((sd - sd0)) dropped, want 4 x 10"
note "the caller's $((sd - sd0)) telephone-event packets stopped at mgwd"

python3 - "$WORK/cdr.jsonl" <<'PY' || fail "digits in the call records: $(cat "$WORK/cdr.jsonl")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
echo = [r for r in recs if r.get("kind") == "echo"]
b2b = [r for r in recs if r.get("kind") == "b2bua"]
assert len(echo) == 1 and len(b2b) == 2, recs
print("--- echo call: caller sent %r; B2BUA call: caller %r, callee %r" % (
    echo[0].get("dtmf_caller"), b2b[0].get("dtmf_caller"), b2b[0].get("dtmf_callee")))
assert echo[0].get("dtmf_caller") == "7391" and "dtmf_callee" not in echo[0], echo[0]
assert b2b[0].get("dtmf_caller") == "7391" and b2b[0].get("dtmf_callee") == "7391", b2b[0]
assert b2b[1].get("dtmf_caller") == "7391" and "dtmf_callee" not in b2b[1], b2b[1]
PY
n=$(grep -c "DTMF '[0-9]' from the" "$WORK/mgwd.log")
[ "$n" -eq 16 ] || fail "expected 16 digits in the log (4 echo + 4 + 4 B2BUA + 4 INFO), got $n"
grep -q "DTMF '7' from the caller, [0-9]* ms" "$WORK/mgwd.log" || fail "no digit line in the log"
reported=$(jget status "sum(w['dtmf'] for w in r['worker_stats'])")
[ "$reported" -eq 16 ] || fail "workers reported $reported digits, not 16"
note "16 digits reported once each, in order, on the legs that received them"
