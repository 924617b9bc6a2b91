"""G.722, G.729 and Opus for the integration tests' peers, through the same libraries a phone
would use (spandsp, bcg729, libopus, loaded with ctypes): encode what a peer sends, decode
what it hears. 16-bit PCM as lists of ints."""
import ctypes
import ctypes.util

_spandsp = ctypes.CDLL(ctypes.util.find_library("spandsp") or "libspandsp.so.2")
_bcg729 = ctypes.CDLL(ctypes.util.find_library("bcg729") or "libbcg729.so.0")
_opus = ctypes.CDLL(ctypes.util.find_library("opus") or "libopus.so.0")

for f in ("g722_encode_init", "g722_decode_init"):
    getattr(_spandsp, f).restype = ctypes.c_void_p
    getattr(_spandsp, f).argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_spandsp.g722_encode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
_spandsp.g722_decode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
_bcg729.initBcg729EncoderChannel.restype = ctypes.c_void_p
_bcg729.initBcg729EncoderChannel.argtypes = [ctypes.c_uint8]
_bcg729.initBcg729DecoderChannel.restype = ctypes.c_void_p
_bcg729.bcg729Encoder.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p,
                                  ctypes.POINTER(ctypes.c_uint8)]
_bcg729.bcg729Decoder.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint8,
                                  ctypes.c_uint8, ctypes.c_uint8, ctypes.c_uint8, ctypes.c_void_p]
_opus.opus_encoder_create.restype = ctypes.c_void_p
_opus.opus_encoder_create.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                      ctypes.POINTER(ctypes.c_int)]
_opus.opus_decoder_create.restype = ctypes.c_void_p
_opus.opus_decoder_create.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
_opus.opus_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p,
                              ctypes.c_int]
_opus.opus_decode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p,
                              ctypes.c_int, ctypes.c_int]
OPUS_APPLICATION_VOIP = 2048

# name: (RTP clock, PCM rate the peer works at)
RATES = {"G722": (8000, 16000), "G729": (8000, 8000), "opus": (48000, 48000)}


def _pcm(x):
    return (ctypes.c_int16 * len(x))(*x)


class Encoder:
    def __init__(self, name):
        self.name = name
        if name == "G722":
            self.s = _spandsp.g722_encode_init(None, 64000, 0)
        elif name == "G729":
            self.s = _bcg729.initBcg729EncoderChannel(0)
        else:
            err = ctypes.c_int()
            self.s = _opus.opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP,
                                               ctypes.byref(err))

    def encode(self, x):
        """One packet's payload from PCM at RATES[name][1]."""
        if self.name == "G722":
            out = ctypes.create_string_buffer(len(x))
            n = _spandsp.g722_encode(self.s, out, _pcm(x), len(x))
            return out.raw[:n]
        if self.name == "G729":
            data = b""
            for i in range(0, len(x), 80):
                out = ctypes.create_string_buffer(10)
                n = ctypes.c_uint8()
                _bcg729.bcg729Encoder(self.s, _pcm(x[i:i + 80]), out, ctypes.byref(n))
                data += out.raw[:n.value]
            return data
        out = ctypes.create_string_buffer(1500)
        n = _opus.opus_encode(self.s, _pcm(x), len(x), out, 1500)
        return out.raw[:n]


class Decoder:
    def __init__(self, name):
        self.name = name
        if name == "G722":
            self.s = _spandsp.g722_decode_init(None, 64000, 0)
        elif name == "G729":
            self.s = _bcg729.initBcg729DecoderChannel()
        else:
            err = ctypes.c_int()
            self.s = _opus.opus_decoder_create(48000, 1, ctypes.byref(err))

    def decode(self, data):
        """PCM at RATES[name][1] from one packet's payload."""
        if self.name == "G722":
            out = (ctypes.c_int16 * (2 * len(data)))()
            n = _spandsp.g722_decode(self.s, out, data, len(data))
            return list(out[:n])
        if self.name == "G729":
            pcm = []
            for i in range(0, len(data) - len(data) % 10, 10):
                out = (ctypes.c_int16 * 80)()
                _bcg729.bcg729Decoder(self.s, data[i:i + 10], 10, 0, 0, 0, out)
                pcm.extend(out)
            return pcm
        out = (ctypes.c_int16 * 5760)()
        n = _opus.opus_decode(self.s, data, len(data), out, 5760, 0)
        return list(out[:max(n, 0)])
