/**
 * The mission's choices for the optical link (documented in docs/optical-link.md).
 * One place for them: firmware, bench, decoder and scripts read these.
 */
export const MISSION_SCID = 0x1a5;

/** Downlink TM virtual channels. */
export const TM_VC = {
  housekeeping: 0,
  distillation: 1,
  relay: 2,
  /** Only idle data (first header pointer 0x7FE). */
  idle: 7,
} as const;

/** Uplink TC virtual channels, each under its own COP-1 (FOP-1/FARM-1 pair). */
export const TC_VC = {
  telecommand: 0,
  distillation: 1,
} as const;

/** APIDs of the opaque packets the link itself carries (the dictionary owns the PUS ones). */
export const LINK_APID = {
  distillation: 0x0d0,
  relay: 0x0e0,
} as const;

/** Default TM frame: 1115 octets (223 x 5, the size used with RS interleave 5), OCF and FECF on. */
export const DEFAULT_TM_FRAME_BYTES = 1115;
export const DEFAULT_TM_RANDOMIZED = true;
/** Largest TC frame the uplink uses. */
export const DEFAULT_TC_MAX_FRAME_BYTES = 1024;
/** FARM-1 sliding window width W and FOP-1 window K (K <= W/2). */
export const FARM_WINDOW_WIDTH = 20;
export const FOP_WINDOW_K = 10;

/** Security associations: SPI 1 authenticates the telecommand VC, SPI 2 the distillation VC. */
export const SPI = { telecommand: 1, distillation: 2 } as const;
/** Anti-replay window: wide enough for every frame a FOP can send into a drop-out. */
export const ARSN_WINDOW = 1024;

/**
 * Reliable downlink for key distillation: COP-1's go-back-N run over whole packets
 * (N(S) = sequence count mod 256), acknowledged by CLCW-carrying packets on the uplink
 * (TC VC 1, MAP 1, type-B frames, still authenticated).
 */
export const ARQ_ACK_APID = 0x0df;
export const ARQ_ACK_MAP_ID = 1;
export const ARQ_WINDOW_K = 32;
export const ARQ_FARM_WINDOW_WIDTH = 64;
