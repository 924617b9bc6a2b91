#!/usr/bin/env bash
# RTCP reports mgw sends where it terminates media (an echo call). The caller sends 5 s of
# RTP (SSRC 0x4d47) with every tenth packet missing; mgwd's worker sends compound RTCP to the
# caller's RTCP port, from its own RTCP port: a sender report with mgw's SSRC (the one its
# echoed RTP carries), an NTP time within 5 s of the capture's clock, a packet count no higher
# than what it had echoed by then; a report block on SSRC 0x4d47 with about 10 % lost (the
# fraction and the cumulative count), the extended highest sequence number the caller had
# reached; an SDES CNAME. The first comes within 1.25-3.75 s of the call (half the 5 s
# interval, randomised), the next ones 2.5-7.5 s apart.
source "$(dirname "$0")/lib.sh"
mgw_setup rtcp_report 'routes = ( { name = "echo"; prefix = "echo"; app = "echo"; } );
log = { level = "info"; };'
PYTHONPATH="$MGW_SRC/tests/integration" python3 - "$WORK/caller.pcap" <<'PY'
import sys
import rtpaudio
# every tenth packet lost on the way
rtpaudio.write_pcap(sys.argv[1], [(i, 0, bytes([0x55]) * 160) for i in range(250) if i % 10 != 5])
PY
capture_start rtcp
sipp_run echo -sf "$SCEN/b2b_caller.xml" -s echo -key codec 0 -mp 6000 -d 5000 -m 1 ||
	fail "echo caller: $(tail -30 "$WORK/echo.out")"
capture_stop
tshark -r "$WORK/rtcp.pcap" -d "udp.port==1024-65535,rtp" -d "udp.port==6001,rtcp" \
	-T fields -E separator='|' -E occurrence=f -e frame.time_epoch -e ip.src \
	-e udp.srcport -e ip.dst -e udp.dstport -e rtcp.pt -e rtcp.senderssrc \
	-e rtcp.timestamp.ntp.msw -e rtcp.sender.packetcount -e rtcp.ssrc.identifier \
	-e rtcp.ssrc.fraction -e rtcp.ssrc.cum_nr -e rtcp.ssrc.ext_high -e rtcp.sdes.text \
	-e rtp.ssrc -e rtp.seq >"$WORK/rtcp.txt" 2>/dev/null
python3 - "$WORK/rtcp.txt" "$MEDIA_IP" "$TAP_ADDR" <<'PY' || fail "mgw's RTCP reports: $(grep -v '^[0-9.]*|[0-9.]*|[0-9]*|[0-9.]*|[0-9]*|||' "$WORK/rtcp.txt" | head -20)"
import sys
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()]
mgw, tap = sys.argv[2], sys.argv[3]
echoed = [(float(r[0]), int(r[14], 0)) for r in rows
          if r[1] == mgw and r[4] == "6000" and r[14]]
caller = [(float(r[0]), int(r[15])) for r in rows if r[1] == tap and r[14]]
reports = [r for r in rows if r[1] == mgw and r[5] and r[4] == "6001"]
print("--- %d RTP echoed, %d RTCP reports from mgwd" % (len(echoed), len(reports)))
assert echoed and reports, "no reports"
ssrc = {s for _, s in echoed}
assert len(ssrc) == 1, ssrc
t_call = min(t for t, _ in caller)
prev = None
for r in reports:
    t = float(r[0])
    assert int(r[2]) % 2 == 1, "not from an RTCP port: %s" % r[2]
    assert r[5].startswith("200"), "not a sender report: %s" % r[5]     # SR, then SDES (202)
    assert int(r[6], 0) in ssrc, (r[6], ssrc)
    ntp = int(r[7], 0) - 2208988800
    assert abs(ntp - t) <= 5, (ntp, t)
    sent_by_then = sum(1 for te, _ in echoed if te <= t)
    assert 0 < int(r[8]) <= sent_by_then + 1, (r[8], sent_by_then)
    assert int(r[9], 0) == 0x4d47, r[9]
    # the highest sequence number mgwd had when it wrote the report: what the caller had
    # sent by then, but for the last few still on their way
    got_by_then = [s for tc, s in caller if tc <= t]
    high = int(r[12])
    assert max(got_by_then) - 5 <= high <= max(got_by_then), (high, max(got_by_then))
    upto = [s for s in got_by_then if s <= high]
    lost = (high - min(upto) + 1) - len(upto)
    assert abs(int(r[11]) - lost) <= 1, (r[11], lost)
    assert 15 <= int(r[10]) <= 36, "fraction lost %s/256, want about 10 %%" % r[10]
    assert "mgw@" in r[13], r[13]
    if prev is None:
        assert 1.0 <= t - t_call <= 4.0, t - t_call
    else:
        assert 2.3 <= t - prev <= 7.7, t - prev
    prev = t
    print("--- SR at +%.1f s: %s packets sent, block on 0x4d47: %s/256 lost, cumulative %s, "
          "highest %s, CNAME %s" % (t - t_call, r[8], r[10], r[11], r[12], r[13]))
PY
sent=$(jget status "sum(w['rtcp_sent'] for w in r['worker_stats'])")
[ "$sent" -ge 1 ] || fail "status counts $sent reports sent"
assert_clean
