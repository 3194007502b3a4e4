#pragma once
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
#include <libavutil/dict.h>
#include <libavutil/pixdesc.h>
#include <libavutil/avutil.h>

/// AVERROR(e) and friends are macros; Swift sees them through these.
static inline int vigil_averror(int e) { return AVERROR(e); }
static inline int vigil_averror_eof(void) { return AVERROR_EOF; }
static inline int vigil_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int vigil_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int vigil_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int vigil_averror_exit(void) { return AVERROR_EXIT; }
static inline int64_t vigil_av_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int vigil_averror_stream_not_found(void) { return AVERROR_STREAM_NOT_FOUND; }
static inline int vigil_averror_protocol_not_found(void) { return AVERROR_PROTOCOL_NOT_FOUND; }
static inline int vigil_averror_demuxer_not_found(void) { return AVERROR_DEMUXER_NOT_FOUND; }
static inline int vigil_averror_encoder_not_found(void) { return AVERROR_ENCODER_NOT_FOUND; }
static inline int vigil_averror_http_not_found(void) { return AVERROR_HTTP_NOT_FOUND; }
