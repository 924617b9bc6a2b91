"""What a peer hears: RTP from a capture (tshark), G.711 decoded, and measures on the audio
(tone frequency, correlation with a reference, RFC 4733 events). For the integration tests.

    python3 rtpaudio.py PCAP SRC DST CHECK...   (SRC, DST: "ip:port"; checks below)

Checks (each prints what it measured, and exits 1 on the first that fails):
    stream                 one SSRC, consecutive sequence numbers, timestamps 160 apart
                           (20 ms), the marker on the first packet only
    seq                    every packet (audio and events) from one SSRC, sequence numbers
                           consecutive: plays one after another go on from each other
    count=N                exactly N audio packets
    span>=S                the packets spread over at least S seconds (paced, not a burst)
    freq=F                 the dominant frequency of the audio is F Hz within 2 %
    corr=WAV>=X            normalised correlation with WAV (resampled to 8 kHz by sox) >= X
    dtmf=DIGITS[/PT]       the RFC 4733 events (payload type PT, default 101) name DIGITS, in
                           order, each with its three end packets
    inband=DIGITS          the DTMF tone pairs heard in the audio (20 ms blocks whose energy
                           lies in one row and one column frequency), one per run of
                           blocks, name DIGITS in order
    echo=BYTE              packets whose payload is all BYTE (the caller's own, echoed) come
                           only outside the player's spans (it mutes echo), at least 10 after
                           the last, the sequence going on from the player's; the checks after
                           this one leave them out
    held=BYTE              the same for audio relayed from the other leg (all BYTE): outside
                           the player's spans, at least 10 after the last (the player is a
                           source of its own there: no sequence check)
"""
import math
import os
import struct
import subprocess
import sys
import tempfile


def write_pcap(path, packets, ssrc=0x4d47, ptime_ms=20, ts_step=160):
    """A pcap for SIPp's play_pcap_audio: @packets are (seq, pt, payload), sent seq * ptime
    into it with timestamp seq * ts_step (a missing seq is a packet lost on the way)."""
    with open(path, "wb") as o:
        o.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for seq, pt, payload in packets:
            rtp = struct.pack("!BBHII", 0x80, pt, seq, ts_step * seq % (1 << 32), ssrc) + payload
            udp = struct.pack("!HHHH", 4000, 4000, 8 + len(rtp), 0) + rtp
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + udp
            eth = b"\0" * 12 + b"\x08\x00" + ip
            t = seq * ptime_ms / 1000
            o.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(eth), len(eth)) + eth)


def ulaw(b):
    b = ~b & 0xff
    t = (((b & 0x0f) << 3) + 0x84) << ((b >> 4) & 7)
    return (0x84 - t) if b & 0x80 else (t - 0x84)


def alaw(b):
    b ^= 0x55
    t = (b & 0x0f) << 4
    seg = (b >> 4) & 7
    t = t + 8 if seg == 0 else (t + 0x108) << (seg - 1)
    return t if b & 0x80 else -t


def packets(pcap, src, dst):
    out = subprocess.run(
        ["tshark", "-r", pcap, "-d", "udp.port==1024-65535,rtp", "-Y", "rtp", "-T", "fields",
         "-e", "frame.time_relative", "-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst",
         "-e", "udp.dstport", "-e", "rtp.ssrc", "-e", "rtp.seq", "-e", "rtp.timestamp",
         "-e", "rtp.marker", "-e", "rtp.p_type", "-e", "rtp.payload"],
        capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 11 or "%s:%s" % (f[1], f[2]) != src or "%s:%s" % (f[3], f[4]) != dst:
            continue
        rows.append({"t": float(f[0]), "ssrc": int(f[5], 0), "seq": int(f[6]), "ts": int(f[7]),
                     "m": f[8] in ("1", "True"), "pt": int(f[9]),
                     "payload": bytes.fromhex(f[10].replace(":", ""))})
    return rows


def audio(rows):
    return [r for r in rows if r["pt"] in (0, 8)]


def samples(rows):
    out = []
    for r in audio(rows):
        dec = ulaw if r["pt"] == 0 else alaw
        out.extend(dec(b) for b in r["payload"])
    return out


def goertzel(x, f, rate=8000):
    w = 2 * math.pi * f / rate
    c = 2 * math.cos(w)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + c * s1 - s2, s1
    return s1 * s1 + s2 * s2 - c * s1 * s2


def voiced(rows):
    """The samples of the packets that carry sound (a cadence's silences left out)."""
    out = []
    for r in audio(rows):
        dec = ulaw if r["pt"] == 0 else alaw
        x = [dec(b) for b in r["payload"]]
        if math.sqrt(sum(v * v for v in x) / len(x)) > 100:
            out.extend(x)
    return out


def dominant(x):
    """The strongest frequency from 200 to 3400 Hz: a coarse scan, then 1 Hz steps."""
    x = x[:8000] or [0]
    best = max(range(200, 3401, 10), key=lambda f: goertzel(x, f))
    return max(range(best - 10, best + 11), key=lambda f: goertzel(x, f))


def inband_digits(rows):
    """The DTMF digits in the audio: per packet, the strongest row and column frequency
    when the two hold most of its energy; a run of packets with the same digit is one."""
    rowf, colf, keys = (697, 770, 852, 941), (1209, 1336, 1477, 1633), "123A456B789C*0#D"
    out, last = [], None
    for r in audio(rows):
        dec = ulaw if r["pt"] == 0 else alaw
        x = [dec(b) for b in r["payload"]]
        e = sum(v * v for v in x) * len(x) / 2 or 1
        pr = [goertzel(x, f) / e for f in rowf]
        pc = [goertzel(x, f) / e for f in colf]
        i, j = pr.index(max(pr)), pc.index(max(pc))
        d = keys[4 * i + j] if pr[i] > 0.25 and pc[j] > 0.25 and pr[i] + pc[j] > 0.7 else None
        if d and d != last:
            out.append(d)
        last = d
    return "".join(out)


def correlate(x, ref, max_lag=20):
    """Best normalised correlation of x with ref over lags of up to max_lag samples."""
    best = 0.0
    for lag in range(-max_lag, max_lag + 1):
        a = x[max(lag, 0):]
        b = ref[max(-lag, 0):]
        n = min(len(a), len(b))
        if n < len(ref) // 2:
            continue
        a, b = a[:n], b[:n]
        num = sum(p * q for p, q in zip(a, b))
        den = math.sqrt(sum(p * p for p in a) * sum(q * q for q in b)) or 1
        best = max(best, num / den)
    return best


def wav8k(path):
    with tempfile.TemporaryDirectory() as d:
        raw = os.path.join(d, "ref.raw")
        subprocess.run(["sox", path, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed",
                        "-t", "raw", raw], check=True)
        data = open(raw, "rb").read()
    return [int.from_bytes(data[i:i + 2], "little", signed=True) for i in range(0, len(data), 2)]


def events(rows, pt):
    """RFC 4733 events: [(event, end packets)] in order, one entry per event timestamp."""
    seen = {}
    order = []
    for r in rows:
        if r["pt"] != pt or len(r["payload"]) < 4:
            continue
        ev, end = r["payload"][0], bool(r["payload"][1] & 0x80)
        if r["ts"] not in seen:
            seen[r["ts"]] = [ev, 0]
            order.append(r["ts"])
        if end:
            seen[r["ts"]][1] += 1
    return [tuple(seen[t]) for t in order]


def main():
    pcap, src, dst = sys.argv[1:4]
    rows = packets(pcap, src, dst)
    au = audio(rows)
    for check in sys.argv[4:]:
        if check.startswith("echo=") or check.startswith("held="):
            byte = int(check[5:], 0)
            echoed = [r for r in rows if r["pt"] in (0, 8) and set(r["payload"]) == {byte}]
            played = [r for r in rows if r not in echoed]
            assert played, "nothing but echo"
            # the player's spans: its packets with no pause of more than 200 ms
            spans = [[played[0]["t"], played[0]["t"]]]
            for r in played[1:]:
                if r["t"] - spans[-1][1] > 0.2:
                    spans.append([r["t"], r["t"]])
                spans[-1][1] = r["t"]
            during = [r for r in echoed if any(a < r["t"] < b for a, b in spans)]
            after = [r for r in echoed if r["t"] > spans[-1][1]]
            print("--- %s: %d packets outside the player's %d spans, %d inside, %d after "
                  "the last" % (check[:4], len(echoed) - len(during), len(spans), len(during),
                                len(after)))
            assert not during and len(after) >= 10, (len(during), len(after))
            seqs = [r["seq"] for r in played[-1:] + after[:1]]
            assert check.startswith("held=") or (seqs[1] - seqs[0]) % 65536 == 1, \
                "echo does not go on from the player: %s" % seqs
            rows = played
            au = audio(rows)
        elif check == "stream":
            ssrcs = {r["ssrc"] for r in au}
            seqs = [r["seq"] for r in au]
            steps = {(b["ts"] - a["ts"]) % (1 << 32) for a, b in zip(au, au[1:])}
            marks = [i for i, r in enumerate(au) if r["m"]]
            print("--- %d audio packets, SSRC %s, timestamp steps %s, markers at %s" %
                  (len(au), [hex(s) for s in ssrcs], sorted(steps), marks))
            assert au, "no audio packets %s -> %s" % (src, dst)
            assert len(ssrcs) == 1, ssrcs
            assert all((b - a) % 65536 == 1 for a, b in zip(seqs, seqs[1:])), seqs
            assert steps <= {160}, steps
            assert marks == [0], marks
        elif check == "seq":
            ssrcs = {r["ssrc"] for r in rows}
            seqs = [r["seq"] for r in rows]
            print("--- %d packets, SSRC %s, sequence %s..%s" % (
                len(rows), [hex(s) for s in ssrcs], seqs[:1], seqs[-1:]))
            assert len(ssrcs) == 1, ssrcs
            assert all((b - a) % 65536 == 1 for a, b in zip(seqs, seqs[1:])), seqs
        elif check.startswith("count="):
            assert len(au) == int(check[6:]), "%d audio packets, want %s" % (len(au), check[6:])
        elif check.startswith("span>="):
            span = au[-1]["t"] - au[0]["t"] if au else 0
            print("--- %d packets over %.2f s" % (len(au), span))
            assert span >= float(check[6:]), span
        elif check.startswith("freq="):
            want = float(check[5:])
            got = dominant(voiced(rows))
            print("--- dominant frequency %d Hz (want %g within 2 %%)" % (got, want))
            assert abs(got - want) <= 0.02 * want, got
        elif check.startswith("corr="):
            wav, _, x = check[5:].partition(">=")
            c = correlate(samples(rows), wav8k(wav))
            print("--- correlation with %s: %.3f (want >= %s)" % (os.path.basename(wav), c, x))
            assert c >= float(x), c
        elif check.startswith("inband="):
            got = inband_digits(rows)
            print("--- in-band digits heard: %s (want %s)" % (got, check[7:]))
            assert got == check[7:], got
        elif check.startswith("dtmf="):
            digits, _, pt = check[5:].partition("/")
            evs = events(rows, int(pt or 101))
            names = "".join("0123456789*#ABCD"[e] if e < 16 else "?" for e, _ in evs)
            print("--- RFC 4733 events %s, end packets %s" % (names, [n for _, n in evs]))
            assert names == digits, names
            assert all(n == 3 for _, n in evs), evs
        else:
            raise SystemExit("unknown check %s" % check)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)
