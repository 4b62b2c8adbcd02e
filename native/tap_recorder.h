// A recording fed from packets in native code (docs/architecture.md §3.7): the event
// thread places what a recorded source's route relays into the recording's tracks as it
// relays it, so a recorded, unmonitored call costs JavaScript nothing per packet. The
// worker's JavaScript only takes finished frames at its sweep (Take) and hands them to
// the file.
//
// The same rules as the JavaScript recorder (media/recording/packetRecorder.ts), of
// which this is the 16-bit PCM, 8 kHz case: a source is placed by its RTP timestamp
// after an anchor on its arrival (Aligner, a port of media/recording/trackAligner.ts
// SourceAligner), G.711 is decoded by table as it is summed into its track, a track with
// nothing in a frame writes silence. Pure: no threads; whoever calls holds `mutex` (the
// event thread while it places, JavaScript's thread for everything else).
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

namespace callwatch {

// ITU-T G.711 decoding tables (µ-law, A-law), as media/codecs/g711.ts builds them.
const int16_t* UlawDecodeTable();
const int16_t* AlawDecodeTable();

// RecordLaw: how a route's recorder takes a payload type (Route::recordLaw).
enum RecordLaw : uint8_t {
  RECORD_NONE = 0,  // not audio for the recording (telephone-event): ignored
  RECORD_ULAW = 1,
  RECORD_ALAW = 2,
  RECORD_JS = 3,  // audio the native recorder cannot decode: JavaScript records it
};

// Where a packet's audio goes on the recording's timeline: see trackAligner.ts, whose
// `place` this mirrors statement for statement (positions are samples since the start,
// at the file's rate; DROPPED for a duplicate or a late packet).
class Aligner {
 public:
  static constexpr int64_t DROPPED = INT64_MIN;
  static constexpr int SEEN = 128;
  static constexpr int LATE_RUN = 3;

  explicit Aligner(double rate, double jumpMs = 500, double backMs = 2000,
                   double lateMs = 1500);
  int64_t Place(uint32_t ssrc, uint16_t seq, uint32_t ts, double clockRate, double arrival,
                int count, int64_t written);

  double placed = 0, duplicates = 0, late = 0, reanchors = 0;

 private:
  int64_t Position(uint32_t ts) const;
  int64_t Anchor(uint32_t ssrc, uint16_t seq, uint32_t ts, double clockRate, double arrival,
                 int count);

  double rate_;
  double jumpSamples_, lateSamples_, backMs_;
  bool anchored_ = false;
  uint32_t ssrc_ = 0;
  double clockRate_ = 0;
  uint32_t anchorTs_ = 0;
  int64_t anchorPos_ = 0;
  uint32_t highestTs_ = 0;
  uint16_t highestSeq_ = 0;
  int lateRun_ = 0;
  int32_t seen_[SEEN];
};

// One track: a ring of 32-bit sums from `written` on (trackAligner.ts TrackBuffer without
// the received bytes). The ring is allocated at the first audio. Unlike TrackBuffer, a
// take leaves the ring as it is: what lies past `end_` is stale (taken a lap ago) and is
// cleared when audio first reaches it, so [written, end_) always holds sums.
class TrackRing {
 public:
  explicit TrackRing(uint32_t capacity);  // rounded up to a power of two
  void AddLaw(int64_t pos, const int16_t* table, const uint8_t* bytes, int count);
  void AddPcm(int64_t pos, const int16_t* pcm, int count);
  // The next `count` samples, clamped to int16, into out[0], out[stride], ...; zeros where
  // nothing was added. Returns false when they were all silent.
  bool TakeInto(int16_t* out, int stride, int count);
  int64_t written = 0;
  uint32_t capacity;
  double overflow = 0;  // samples beyond the ring, dropped

 private:
  // The part of [pos, pos + count) that lies after `written` and within the ring, as
  // [*start, end) relative to `pos`; widens the span holding audio.
  int Reserve(int64_t pos, int count, int* start);
  // Zeroes ring positions [from, to) (at most the ring).
  void Clear(int64_t from, int64_t to);
  std::vector<int32_t> sums_;
  uint32_t mask_;
  int64_t end_ = 0;    // after the last sample ever added
  int64_t first_ = 0;  // the first added and not yet taken (while end_ > written)
};

// Fields of TapRecorder::Stats (JavaScript reads them into a Float64Array).
enum RecorderStat {
  REC_PACKETS,
  REC_DUPLICATES,
  REC_LATE,
  REC_REANCHORS,
  REC_OVERFLOW,
  REC_WRITTEN,
  REC_STAT_COUNT
};

class TapRecorder {
 public:
  std::mutex mutex;

  // `rate`: the file's (8000). `channels`: 2 (tracks left and right) or 1 (their clamped
  // sum). `startMs`: the recording's start on the event thread's clock (CLOCK_MONOTONIC
  // ms). `seconds`: how far ahead of what was taken a track holds audio.
  TapRecorder(int rate, int frameSamples, int channels, double startMs, double seconds);
  // Which track each source slot feeds: 0, 1, or -1 (not recorded).
  void SetTracks(const int32_t* trackOfSlot, int slots);
  // One G.711 payload of `slot` (table: UlawDecodeTable/AlawDecodeTable) with its RTP
  // header's fields, arrived at `arrivalMs` (the event thread's clock).
  void PlaceLaw(int slot, const int16_t* table, const uint8_t* payload, int length,
                uint32_t ssrc, uint16_t seq, uint32_t ts, double arrivalMs);
  // Decoded audio at the file's rate (JavaScript decoded another codec), placed as the
  // RTP timestamp `ts` at `clockRate` says.
  void PlacePcm(int slot, const int16_t* pcm, int count, uint32_t ssrc, uint16_t seq,
                uint32_t ts, double clockRate, double arrivalMs);
  // Writes whole frames from `written` up to sample position `target`, at most
  // `maxFrames`, into `out` (interleaved L R, or mono): returns the frames written.
  uint32_t Take(int64_t target, int16_t* out, uint32_t maxFrames);
  void Stats(double* out) const;  // REC_STAT_COUNT fields
  // Samples per frame in `Take`'s output (frame samples times channels).
  int FrameValues() const { return frame_ * channels_; }

 private:
  struct Source {
    int track = -1;
    Aligner aligner;
    explicit Source(double rate) : aligner(rate) {}
  };
  Source* SourceOf(int slot);
  int64_t PlaceIn(Source& src, uint32_t ssrc, uint16_t seq, uint32_t ts, double clockRate,
                  double arrivalMs, int count);

  int rate_;
  int frame_;
  int channels_;
  double startMs_;
  std::vector<Source> sources_;
  TrackRing tracks_[2];
  double packets_ = 0;
  std::vector<int16_t> mono_[2];  // scratch of a mono frame
};

}  // namespace callwatch
