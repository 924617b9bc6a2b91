/* vad: voice activity on G.711 audio, for the worker: is a packet's audio above the voice
 * threshold (a mean magnitude of VAD_THRESHOLD in 16-bit linear, about -42 dBFS: speech
 * sits well above it, silence and comfort noise below)? A table lookup and an add per
 * sample; only streams that ask for it (stream_cfg.vad) come here. */
#ifndef MGW_VAD_H
#define MGW_VAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VAD_THRESHOLD 256

/** Build the magnitude tables (once, before the workers start). */
void vad_init(void);
/** Is the audio of RTP packet @rtp (@len bytes, G.711 by @law: STREAM_VAD_PCMU/PCMA) above
 *  the threshold? False for packets whose lengths contradict each other or carry nothing. */
bool vad_voice(const uint8_t *rtp, size_t len, uint8_t law);
/** Is @n samples of decoded 16-bit audio above the same threshold? */
bool vad_voice_pcm(const int16_t *pcm, size_t n);

#endif
