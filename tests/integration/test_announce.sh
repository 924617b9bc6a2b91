#!/usr/bin/env bash
# mgw's player, heard by the peer (tshark captures it, the test decodes the G.711):
# - app "announce": a WAV made by sox (a 300-3000 Hz sweep at 16 kHz, so resampling and
#   encoding are exercised) is played to a SIPp caller as one paced RTP source (one SSRC,
#   consecutive sequence numbers, timestamps 160 apart, marker on the first packet), the audio
#   correlates with the WAV, and mgwd hangs up when it has played (the caller waits for BYE);
# - media.play on an echo call: a tone of the configured tone plan, at its frequency within
#   2 %, the caller's audio not echoed meanwhile;
# - media.dtmf on the same call: RFC 4733 events for the digits, in order, three end packets
#   each; then the call echoes again, its sequence numbers going on from the player's;
# - a route whose file is not audio is refused at load, naming the file and the key.
source "$(dirname "$0")/lib.sh"
WAVDIR=$(mktemp -d /tmp/mgwt-announce-wav.XXXXXX)
CLEANUP_EXTRA='rm -rf "$WAVDIR"'
sox -n -r 16000 -b 16 -c 1 "$WAVDIR/sweep.wav" synth 2 sine 300-3000 vol 0.5 ||
	fail "sox could not make the announcement"
printf 'not audio\n' >"$WAVDIR/notaudio.wav"
mgw_setup announce "routes = (
  { name = \"ann\"; prefix = \"ann\"; app = \"announce\"; play = \"$WAVDIR/sweep.wav\"; },
  { name = \"echo\"; prefix = \"echo\"; app = \"echo\"; } );
media = { tone_plan = \"eu\"; tones = ( \"probe=1000/400,0/100\" ); };
log = { level = \"info\"; };"

mkpcap "$WORK/caller.pcap" 0 10 0xff
capture_start ann
sipp_run ann -sf "$SCEN/b2b_caller_wait_bye.xml" -s ann -key codec 0 -mp 6000 -m 1 ||
	fail "announcement caller: $(tail -30 "$WORK/ann.out")"
capture_stop
grep -q "announcement played" "$WORK/mgwd.log" || fail "no 'announcement played' in the log"
mloc=$(grep -o "media $MEDIA_IP:[0-9]*" "$WORK/mgwd.log" | head -1 | cut -d' ' -f2)
python3 "$MGW_SRC/tests/integration/rtpaudio.py" "$WORK/ann.pcap" "$mloc" "$TAP_ADDR:6000" \
	stream count=100 'span>=1.5' "corr=$WAVDIR/sweep.wav>=0.9" || fail "the announcement as heard"
assert_clean

# An echo call (the caller sends 5 s of audio) that a tone, then digits, interrupt.
mkpcap "$WORK/caller.pcap" 0 250 0x2a
(sipp_run echo -sf "$SCEN/b2b_caller.xml" -s echo -key codec 0 -mp 6010 -d 6000 -m 1) &
SIPP=$!
wait_status "r['calls'] == 1" 10 || fail "the echo call did not start"
stream=$(mgwctl --json sessions | python3 -c "import json,sys; print(json.load(sys.stdin)['result'][0]['local'])")
capture_start tone
sleep 0.5 # (tshark says it captures a moment before it does)
mgwctl call media.play "stream=$stream" play=tone:probe loops=2 >/dev/null || fail "media.play refused"
sleep 1.5
mgwctl call media.dtmf "stream=$stream" digits=159# >/dev/null || fail "media.dtmf refused"
sleep 2
capture_stop
wait "$SIPP" || fail "echo caller: $(tail -30 "$WORK/echo.out")"
python3 "$MGW_SRC/tests/integration/rtpaudio.py" "$WORK/tone.pcap" "$stream" "$TAP_ADDR:6010" \
	echo=0x2a stream count=50 freq=1000 dtmf=159# || fail "the tone and digits as heard"
grep -q "play [0-9]* on $stream ended, 50 packets" "$WORK/mgwd.log" || fail "the tone's end not logged"
assert_clean

# a file that is not audio: the reload is refused, naming file and key
sed -i "s|play = \"$WAVDIR/sweep.wav\"|play = \"$WAVDIR/notaudio.wav\"|" "$WORK/mgwd.conf"
out=$(mgwctl reload 2>&1) && fail "a route playing a file that is not audio was accepted"
grep -q "routes\[0\].play" <<<"$out" && grep -q "notaudio.wav" <<<"$out" ||
	fail "the error does not name the key and the file: $out"
note "refused: $out"
