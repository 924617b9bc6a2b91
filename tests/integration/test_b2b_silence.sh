#!/usr/bin/env bash
# media.silence_timeout_s = 3: the workers watch the level of each leg's G.711 audio. A call
# whose callee sends RTP but only silence (A-law 0xd5, one-way audio) while the caller talks
# (SIPp's g711a.pcap, speech) is ended after 3 s with a BYE to both legs and "silence from the
# callee" in the record; a call where both talk (the callee with a pause of 1 s) is not, and
# ends with the caller's BYE. With media.talk_events the log tells when each side
# starts talking and falls silent: the silent callee never talks; in the second call both
# do, and the call record counts their talk spurts.
source "$(dirname "$0")/lib.sh"
mgw_setup b2b_silence 'media = { silence_timeout_s = 3; talk_events = true; };
log = { level = "info"; };
routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );'
printf 'cdr = { file = "%s"; };\n' "$WORK/cdr.jsonl" >>"$WORK/mgwd.conf"
mgwctl reload >/dev/null || fail "reload with a cdr file failed"
ln -s /usr/share/sip-tester/g711a.pcap "$WORK/caller.pcap"
mkpcap "$WORK/callee.pcap" 8 400 0xd5

(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/b2b_callee.xml" -key codec 8 \
	-i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" -mp 7000 -nostdin -m 1 -timeout 30s -timeout_error \
	>"$WORK/callee.out" 2>&1) &
CALLEE=$!
sipp_run caller -sf "$SCEN/b2b_caller_wait_bye.xml" -s 1234 -key codec 8 -mp 6000 -m 1 ||
	fail "caller got no BYE: $(tail -30 "$WORK/caller.out")"
wait "$CALLEE" || fail "callee got no BYE: $(tail -30 "$WORK/callee.out")"
wait_status "r['calls'] == 0" 10 || fail "the silent call is still up"

# both talk: the caller's speech; the callee talks 1 s, is silent 1 s, talks 1 s, then sends
# nothing; the caller hangs up after 6 s
rm -f "$WORK/callee.pcap"
mkpcap "$WORK/callee.pcap" 8 150 0x80 0xd5 0x80
(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/b2b_callee.xml" -key codec 8 \
	-i 127.0.0.1 -p 5070 -mi "$TAP_ADDR" -mp 7000 -nostdin -m 1 -timeout 30s -timeout_error \
	>"$WORK/callee2.out" 2>&1) &
CALLEE=$!
sipp_run caller2 -sf "$SCEN/b2b_caller.xml" -s 1234 -key codec 8 -mp 6000 -d 6000 -m 1 ||
	fail "talking caller: $(tail -30 "$WORK/caller2.out")"
wait "$CALLEE" || fail "talking callee: $(tail -30 "$WORK/callee2.out")"
wait_status "r['calls'] == 0" 10 || fail "calls left"

python3 - "$WORK/cdr.jsonl" <<'PY' || fail "call records: $(cat "$WORK/cdr.jsonl")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(recs) == 2, recs
silent, talking = recs
print("--- one-way audio: %s after %d ms; both talking: %s after %d ms" % (
    silent["end_reason"], silent["duration_ms"], talking["end_reason"], talking["duration_ms"]))
assert silent["end_reason"] == "silence from the callee", silent
assert 2900 <= silent["duration_ms"] <= 5200, silent
assert "silence" not in talking["end_reason"] and talking["duration_ms"] >= 5500, talking
print("--- talk spurts: one-way call %s/%s, both talking %s/%s" % (
    silent["talk_spurts_caller"], silent["talk_spurts_callee"],
    talking["talk_spurts_caller"], talking["talk_spurts_callee"]))
assert silent["talk_spurts_caller"] >= 1 and silent["talk_spurts_callee"] == 0, silent
assert talking["talk_spurts_caller"] >= 1 and talking["talk_spurts_callee"] == 2, talking
PY
first=$(grep -m1 -o "1-[0-9]*@127.0.0.1: the caller talks" "$WORK/mgwd.log" | cut -d: -f1)
[ -n "$first" ] || fail "no talk event in the log"
! grep -q "$first: the callee talks" "$WORK/mgwd.log" || fail "the silent callee was heard talking"
grep -q ": the callee talks" "$WORK/mgwd.log" || fail "the talking callee was not heard"
grep -q ": the callee falls silent" "$WORK/mgwd.log" || fail "no silence event in the log"
grep -q "only silence from the callee for 3 s" "$WORK/mgwd.log" || fail "no silence line in the log"
assert_clean
