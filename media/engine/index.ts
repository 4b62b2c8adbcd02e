/** The media engine's public API (what src/ imports). */
export { MediaEngine } from './mediaEngine.js';
export type { CreateLegOptions, CreateRoomOptions, MediaEngineEvents } from './mediaEngine.js';
export { Room } from './room.js';
export type { PlayPromptOptions, RoomHearingSpec, RoomMemberSpec, RoomRoutesSpec } from './room.js';
export { PromptPlayback } from './prompt.js';
export type { Prompt, PromptPlaybackEvents } from './prompt.js';
export { decodePromptWav, loadPromptFile } from '../prompts/promptWav.js';
export type { PromptAudio } from '../prompts/promptWav.js';
export type { MediaEngineOptions } from './engineOptions.js';
export { Leg } from './leg.js';
export type {
  LatchedEvent,
  LegCloseReason,
  LegEvents,
  LegMediaSpec,
  RtpTimeoutEvent,
  SecureEvent,
} from './leg.js';
export { newIceCredentials } from '../secure/certificate.js';
export type { DtlsIdentity } from '../secure/certificate.js';
export { InvalidStateError, MediaError } from './errors.js';
export type { MediaErrorCode } from './errors.js';
export type { MediaLogger } from './logger.js';
export { MEDIA_DIRECTIONS, RECORDING_FORMATS } from '../worker/protocol.js';
export type {
  CodecName,
  CodecSpec,
  DtlsCertificateSpec,
  DtmfEvent,
  IceCredentialsSpec,
  InboundStats,
  SecureRemoteSpec,
  LegStats,
  MediaCounters,
  MediaDirection,
  MixerStats,
  PromptEndReason,
  RecordingConfig,
  RecordingFormat,
  RecordingStarted,
  RecordingSummary,
  RemoteAddress,
  RecordingTracks,
  RoomHearing,
  RoomRoute,
  ToneConfig,
  RemoteReport,
  RtpTimeoutReason,
  StatsReport,
  TelephoneEventSpec,
  SecureLegStats,
  WorkerStats,
} from '../worker/protocol.js';
