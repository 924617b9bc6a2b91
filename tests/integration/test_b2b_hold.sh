#!/usr/bin/env bash
# Hold and resume by re-INVITE, first from the caller, then from the callee. The held side gets
# the re-INVITE with mgwd's address and a=sendonly, answers recvonly, and the holder gets
# recvonly back; then both resume with sendrecv. Each end plays 1 s of RTP in each phase,
# every phase with its own payload byte, and tshark on the tap counts per phase: before and
# after the hold >= 95% arrives each way; during it the holder's RTP reaches the held side
# (>= 95%) and the held side's RTP is not delivered (the data plane enforces the direction).
source "$(dirname "$0")/lib.sh"
mgw_setup b2b_hold 'routes = ( { name = "callee"; prefix = "1"; destinations = ( "127.0.0.1:5070" ); } );'

for phase in 1 2 3; do
	mkpcap "$WORK/caller$phase.pcap" 8 50 "0x1$phase"
	mkpcap "$WORK/callee$phase.pcap" 8 50 "0x2$phase"
done

# per_phase NAME HOLDER: count each phase's packets at both ends and check them
per_phase() {
	tshark -r "$WORK/$1.pcap" -d "udp.port==10000-20000,rtp" -Y rtp -T fields -e ip.dst \
		-e udp.dstport -e rtp.payload >"$WORK/$1.txt" 2>/dev/null
	python3 - "$WORK/$1.txt" "$TAP_ADDR" "$MEDIA_IP" "$2" <<'PY'
import sys
rows = [l.split('\t') for l in open(sys.argv[1]).read().splitlines() if l]
host, mgw, holder = sys.argv[2], sys.argv[3], sys.argv[4]
def n(dst, byte):
    return sum(1 for r in rows if r[0] == dst[0] and (dst[1] is None or r[1] == dst[1])
               and r[2].replace(':', '')[:2] == byte)
ends = {'caller': ('1', (host, '6000')), 'callee': ('2', (host, '7000'))}
ok = True
for src, (digit, _) in ends.items():
    dst = 'callee' if src == 'caller' else 'caller'
    for phase in '123':
        byte = digit + phase
        sent, got = n((mgw, None), byte), n(ends[dst][1], byte)
        blocked = phase == '2' and src != holder
        print(f"--- {src}->{dst} phase {phase}{' (held side)' if blocked else ''}: "
              f"sent {sent}, delivered {got}")
        if blocked:
            ok &= sent >= 45 and got <= 3
        else:
            ok &= sent >= 45 and got * 100 >= sent * 95
sys.exit(0 if ok else 1)
PY
}

# run HOLDER CALLER-SCENARIO CALLEE-SCENARIO
run() {
	(cd "$WORK" && exec ip netns exec "$NS" sipp -sf "$SCEN/$3" -i 127.0.0.1 -p 5070 \
		-mi "$TAP_ADDR" -mp 7000 -nostdin -m 1 -timeout 30s -timeout_error \
		-trace_msg -message_file "$WORK/$1-callee.msg" >"$WORK/$1-callee.out" 2>&1) &
	local callee=$!
	capture_start "$1"
	sipp_run "$1-caller" -sf "$SCEN/$2" -s 1234 -mp 6000 -m 1 \
		-trace_msg -message_file "$WORK/$1-caller.msg" ||
		fail "$1 holds, caller: $(tail -30 "$WORK/$1-caller.out")"
	wait "$callee" || fail "$1 holds, callee: $(tail -30 "$WORK/$1-callee.out")"
	capture_stop
	# the callee saw one media address of mgwd's in all three offers
	[ "$(tr -d '\r' <"$WORK/$1-callee.msg" | grep -oE '^(m=audio [0-9]+|c=IN IP4 .*)' |
		grep -v -e 198.18.0.1 -e 'm=audio 7000' | sort -u | wc -l)" -eq 2 ] ||
		fail "mgwd's B-leg address changed during the call"
	per_phase "$1" "$1" || fail "RTP per phase when the $1 holds"
	assert_clean
}

note "the caller holds and resumes"
run caller b2b_caller_hold.xml b2b_callee_held.xml
note "the callee holds and resumes"
run callee b2b_caller_held.xml b2b_callee_holder.xml
