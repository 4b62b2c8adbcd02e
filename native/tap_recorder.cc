#include "tap_recorder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace callwatch {

namespace {

// The segment algorithms of the reference implementation (as media/codecs/g711.ts).
int16_t UlawToLinear(int code) {
  int u = ~code & 0xff;
  int t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return static_cast<int16_t>((u & 0x80) != 0 ? 0x84 - t : t - 0x84);
}

int16_t AlawToLinear(int code) {
  int a = code ^ 0x55;
  int t = (a & 0x0f) << 4;
  int segment = (a & 0x70) >> 4;
  if (segment == 0) {
    t += 8;
  } else if (segment == 1) {
    t += 0x108;
  } else {
    t = (t + 0x108) << (segment - 1);
  }
  return static_cast<int16_t>((a & 0x80) != 0 ? t : -t);
}

struct LawTables {
  int16_t ulaw[256];
  int16_t alaw[256];
  LawTables() {
    for (int c = 0; c < 256; c++) {
      ulaw[c] = UlawToLinear(c);
      alaw[c] = AlawToLinear(c);
    }
  }
};

const LawTables& Tables() {
  static const LawTables tables;
  return tables;
}

// JavaScript's Math.round: halves go up (towards +infinity).
int64_t JsRound(double x) { return static_cast<int64_t>(std::floor(x + 0.5)); }

int16_t Clamp16(int32_t v) {
  return static_cast<int16_t>(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

// The most samples one G.711 payload gives (media/codecs/g711Codec.ts).
constexpr int MAX_LAW_SAMPLES = 960;

}  // namespace

const int16_t* UlawDecodeTable() { return Tables().ulaw; }
const int16_t* AlawDecodeTable() { return Tables().alaw; }

// --- Aligner: trackAligner.ts SourceAligner ---------------------------------------------

Aligner::Aligner(double rate, double jumpMs, double backMs, double lateMs)
    : rate_(rate),
      jumpSamples_(jumpMs * rate / 1000),
      lateSamples_(lateMs * rate / 1000),
      backMs_(backMs) {
  std::fill(seen_, seen_ + SEEN, -1);
}

int64_t Aligner::Place(uint32_t ssrc, uint16_t seq, uint32_t ts, double clockRate,
                       double arrival, int count, int64_t written) {
  int64_t pos;
  // In order by sequence number (RFC 3550 §5.1: wraps at 2^16); not a duplicate.
  unsigned ahead = static_cast<uint16_t>(seq - highestSeq_);
  bool inOrder = anchored_ && ahead > 0 && ahead < 0x8000;
  if (!anchored_ || ssrc != ssrc_ || clockRate != clockRate_) {
    pos = Anchor(ssrc, seq, ts, clockRate, arrival, count);
  } else {
    int32_t d = static_cast<int32_t>(ts - highestTs_);  // RFC 3550 timestamps wrap
    if (d > 0) {
      pos = Position(ts);
      double expected = arrival - count;
      if (static_cast<double>(pos) - expected > jumpSamples_ ||
          expected - static_cast<double>(pos) > lateSamples_) {
        pos = Anchor(ssrc, seq, ts, clockRate, arrival, count);
      } else {
        highestTs_ = ts;
      }
    } else if (inOrder) {
      // A newer packet with a still (or receding) timestamp: place it by arrival.
      pos = Anchor(ssrc, seq, ts, clockRate, arrival, count);
    } else if ((-static_cast<double>(d) * 1000) / clockRate <= backMs_) {
      if (seen_[seq % SEEN] == seq) {
        duplicates++;
        return DROPPED;
      }
      pos = Position(ts);
    } else {
      pos = Anchor(ssrc, seq, ts, clockRate, arrival, count);
    }
  }
  if (pos + count <= written && inOrder && ++lateRun_ >= LATE_RUN) {
    // Timestamps that fell behind real time: follow the arrival from here.
    pos = Anchor(ssrc, seq, ts, clockRate, arrival, count);
  }
  if (pos + count <= written) {
    late++;
    return DROPPED;
  }
  if (inOrder) {
    highestSeq_ = seq;
    lateRun_ = 0;
  }
  seen_[seq % SEEN] = seq;
  placed++;
  return pos;
}

int64_t Aligner::Position(uint32_t ts) const {
  int32_t ticks = static_cast<int32_t>(ts - anchorTs_);
  return anchorPos_ + JsRound(static_cast<double>(ticks) * rate_ / clockRate_);
}

int64_t Aligner::Anchor(uint32_t ssrc, uint16_t seq, uint32_t ts, double clockRate,
                        double arrival, int count) {
  if (anchored_) reanchors++;
  anchored_ = true;
  ssrc_ = ssrc;
  clockRate_ = clockRate;
  anchorTs_ = ts;
  highestTs_ = ts;
  highestSeq_ = seq;
  lateRun_ = 0;
  // Not clamped at 0: audio from before the recording's start is cut, not shifted.
  anchorPos_ = JsRound(arrival - count);
  std::fill(seen_, seen_ + SEEN, -1);
  return anchorPos_;
}

// --- TrackRing: trackAligner.ts TrackBuffer (sums only) ---------------------------------

TrackRing::TrackRing(uint32_t cap) {
  uint32_t size = 1;
  while (size < cap) size <<= 1;
  capacity = size;
  mask_ = size - 1;
}

int TrackRing::Reserve(int64_t pos, int count, int* start) {
  *start = pos < written ? static_cast<int>(std::min<int64_t>(written - pos, count)) : 0;
  int end = count;
  int64_t limit = written + capacity - pos;
  if (end > limit) {
    int64_t fits = std::max<int64_t>(limit, 0);
    overflow += static_cast<double>(end - fits);
    end = static_cast<int>(fits);
  }
  if (*start >= end) return end;
  if (sums_.empty()) sums_.assign(capacity, 0);
  if (written >= end_ || pos + *start < first_) first_ = pos + *start;
  if (pos + end > end_) {
    // Everything from `written` up to the new end must read as silence or what was
    // added: the samples past the old end (a lap of the ring ago) are cleared here, by
    // the adding thread, so TakeInto only reads the ring (no line of it moves back and
    // forth between the event thread's core and the worker's).
    Clear(std::max(end_, written), pos + end);
    end_ = pos + end;
  }
  return end;
}

void TrackRing::Clear(int64_t from, int64_t to) {
  for (int64_t at = from; at < to;) {
    uint32_t k = static_cast<uint32_t>(at) & mask_;
    int64_t run = std::min<int64_t>(to - at, capacity - k);
    std::memset(sums_.data() + k, 0, static_cast<size_t>(run) * sizeof(int32_t));
    at += run;
  }
}

void TrackRing::AddLaw(int64_t pos, const int16_t* table, const uint8_t* bytes, int count) {
  int start;
  int end = Reserve(pos, count, &start);
  int32_t* sums = sums_.data();
  // In runs that do not wrap the ring: no mask per sample.
  for (int i = start; i < end;) {
    uint32_t from = static_cast<uint32_t>(pos + i) & mask_;
    int run = std::min<int64_t>(end - i, capacity - from);
    const uint8_t* b = bytes + i;
    for (int k = 0; k < run; k++) sums[from + k] += table[b[k]];
    i += run;
  }
}

void TrackRing::AddPcm(int64_t pos, const int16_t* pcm, int count) {
  int start;
  int end = Reserve(pos, count, &start);
  int32_t* sums = sums_.data();
  for (int i = start; i < end;) {
    uint32_t from = static_cast<uint32_t>(pos + i) & mask_;
    int run = std::min<int64_t>(end - i, capacity - from);
    for (int k = 0; k < run; k++) sums[from + k] += pcm[i + k];
    i += run;
  }
}

bool TrackRing::TakeInto(int16_t* out, int stride, int count) {
  int64_t pos = written;
  written = pos + count;
  if (pos >= end_ || pos + count <= first_) {
    for (int i = 0; i < count; i++) out[static_cast<size_t>(i) * stride] = 0;
    return false;
  }
  int32_t* sums = sums_.data();
  int16_t* o = out;
  // Past end_ the ring is stale (not cleared yet): silence there.
  int valid = static_cast<int>(std::min<int64_t>(count, end_ - pos));
  for (int left = valid; left > 0;) {
    uint32_t from = static_cast<uint32_t>(pos) & mask_;
    int run = std::min<int64_t>(left, capacity - from);
    for (int k = 0; k < run; k++, o += stride) *o = Clamp16(sums[from + k]);
    pos += run;
    left -= run;
  }
  for (int i = valid; i < count; i++, o += stride) *o = 0;
  return true;
}

// --- TapRecorder -----------------------------------------------------------------------

TapRecorder::TapRecorder(int rate, int frameSamples, int channels, double startMs,
                         double seconds)
    : rate_(rate),
      frame_(frameSamples),
      channels_(channels),
      startMs_(startMs),
      tracks_{TrackRing(static_cast<uint32_t>(rate * seconds)),
              TrackRing(static_cast<uint32_t>(rate * seconds))} {
  if (channels_ == 1) {
    mono_[0].resize(frame_);
    mono_[1].resize(frame_);
  }
}

void TapRecorder::SetTracks(const int32_t* trackOfSlot, int slots) {
  for (int slot = 0; slot < slots; slot++) {
    int track = trackOfSlot[slot];
    if (slot >= static_cast<int>(sources_.size())) {
      sources_.resize(slot + 1, Source(rate_));  // a new slot starts unanchored
    }
    sources_[slot].track = track < 0 || track > 1 ? -1 : track;
  }
  for (size_t slot = slots; slot < sources_.size(); slot++) sources_[slot].track = -1;
}

TapRecorder::Source* TapRecorder::SourceOf(int slot) {
  if (slot < 0 || slot >= static_cast<int>(sources_.size())) return nullptr;
  Source& src = sources_[slot];
  return src.track < 0 ? nullptr : &src;
}

int64_t TapRecorder::PlaceIn(Source& src, uint32_t ssrc, uint16_t seq, uint32_t ts,
                             double clockRate, double arrivalMs, int count) {
  double arrival = (arrivalMs - startMs_) * rate_ / 1000;
  return src.aligner.Place(ssrc, seq, ts, clockRate, arrival, count,
                           tracks_[src.track].written);
}

void TapRecorder::PlaceLaw(int slot, const int16_t* table, const uint8_t* payload, int length,
                           uint32_t ssrc, uint16_t seq, uint32_t ts, double arrivalMs) {
  Source* src = SourceOf(slot);
  if (src == nullptr || length <= 0) return;
  packets_++;
  int count = std::min(length, MAX_LAW_SAMPLES);
  int64_t pos = PlaceIn(*src, ssrc, seq, ts, 8000, arrivalMs, count);
  if (pos == Aligner::DROPPED) return;
  tracks_[src->track].AddLaw(pos, table, payload, count);
}

void TapRecorder::PlacePcm(int slot, const int16_t* pcm, int count, uint32_t ssrc,
                           uint16_t seq, uint32_t ts, double clockRate, double arrivalMs) {
  Source* src = SourceOf(slot);
  if (src == nullptr || count <= 0) return;
  packets_++;
  int64_t pos = PlaceIn(*src, ssrc, seq, ts, clockRate, arrivalMs, count);
  if (pos == Aligner::DROPPED) return;
  tracks_[src->track].AddPcm(pos, pcm, count);
}

uint32_t TapRecorder::Take(int64_t target, int16_t* out, uint32_t maxFrames) {
  uint32_t n = 0;
  TrackRing& left = tracks_[0];
  TrackRing& right = tracks_[1];
  while (n < maxFrames && left.written + frame_ <= target) {
    if (channels_ == 2) {
      int16_t* at = out + static_cast<size_t>(n) * frame_ * 2;
      left.TakeInto(at, 2, frame_);
      right.TakeInto(at + 1, 2, frame_);
    } else {
      int16_t* at = out + static_cast<size_t>(n) * frame_;
      left.TakeInto(mono_[0].data(), 1, frame_);
      right.TakeInto(mono_[1].data(), 1, frame_);
      for (int i = 0; i < frame_; i++) at[i] = Clamp16(mono_[0][i] + mono_[1][i]);
    }
    n++;
  }
  return n;
}

void TapRecorder::Stats(double* out) const {
  out[REC_PACKETS] = packets_;
  double duplicates = 0, late = 0, reanchors = 0;
  for (const Source& src : sources_) {
    duplicates += src.aligner.duplicates;
    late += src.aligner.late;
    reanchors += src.aligner.reanchors;
  }
  out[REC_DUPLICATES] = duplicates;
  out[REC_LATE] = late;
  out[REC_REANCHORS] = reanchors;
  out[REC_OVERFLOW] = tracks_[0].overflow + tracks_[1].overflow;
  out[REC_WRITTEN] = static_cast<double>(tracks_[0].written);
}

}  // namespace callwatch
