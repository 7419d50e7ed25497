/* Synthetic media with content every receiver can verify: each segment's
 * payload starts with its stream, sequence number and origin time, and the
 * rest is a pseudo-random pattern derived from them. */
#ifndef ANYSEE_MEDIA_H
#define ANYSEE_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#define MEDIA_SYNTH_HDR 14u

void media_synth_fill(uint16_t stream, uint32_t seq, uint64_t origin_us, uint8_t *buf, size_t len);
/* 1 when buf is exactly what media_synth_fill would have written. */
int media_synth_verify(uint16_t stream, uint32_t seq, uint64_t origin_us, const uint8_t *buf,
                       size_t len);
/* The stream, sequence and origin a synthetic payload claims in its
 * header; -1 when buf is shorter than one. media_synth_verify then says
 * whether the rest agrees. */
int media_synth_header(const uint8_t *buf, size_t len, uint16_t *stream, uint32_t *seq,
                       uint64_t *origin_us);

#endif
