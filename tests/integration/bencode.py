# bencode for the NG tests' clients and the NG benchmark
def bdecode(b, i=0):
    c = b[i:i + 1]
    if c == b"d":
        i, d = i + 1, {}
        while b[i:i + 1] != b"e":
            k, i = bdecode(b, i)
            d[k.decode()], i = bdecode(b, i)
        return d, i + 1
    if c == b"l":
        i, l = i + 1, []
        while b[i:i + 1] != b"e":
            v, i = bdecode(b, i)
            l.append(v)
        return l, i + 1
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n

def benc(v):
    if isinstance(v, dict):
        return b"d" + b"".join(benc(k) + benc(x) for k, x in v.items()) + b"e"
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, int):
        return b"i%de" % v
    v = v.encode() if isinstance(v, str) else v
    return b"%d:%s" % (len(v), v)


def ng_client(prefix, port=2223, decode=False, timeout=2):
    """cmd(**request) -> the reply dictionary of mgwd's NG socket on 127.0.0.1:port; cookies
    PREFIX1, PREFIX2...; with decode, the reply's top-level byte strings become str."""
    import socket
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    count = [0]
    def cmd(**kw):
        count[0] += 1
        sock.sendto(prefix.encode() + b"%d " % count[0] + benc(kw), ("127.0.0.1", port))
        d = bdecode(sock.recv(65535).partition(b" ")[2])[0]
        if decode:
            d = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in d.items()}
        return d
    return cmd
