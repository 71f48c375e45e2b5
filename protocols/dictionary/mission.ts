/** Mission-wide constants shared by every part of the dictionary. */

/** APID of the QKD payload controller (TC to it, TM from it). */
export const APID_PAYLOAD = 0x065;
/** PUS source id of the ground (bench) issuing telecommands. */
export const SOURCE_ID_GROUND = 0x0001;
/** PUS destination id put in payload TM. */
export const DESTINATION_ID_GROUND = 0x0001;

export const PAYLOAD_MODES = ['OFF', 'BOOT', 'STANDBY', 'ACQUISITION', 'FINE_POINTING', 'QKD', 'SAFE'] as const;
export type PayloadMode = (typeof PAYLOAD_MODES)[number];

/** The payload's boards, as the firmware's HAL ports see them. */
export const BOARD_NAMES = ['qsrc', 'apt', 'lct', 'acs'] as const;
export type BoardName = (typeof BOARD_NAMES)[number];

export const CONFIG_BANKS = ['A', 'B'] as const;
export const MEMORY_IDS = ['CONFIG_A', 'CONFIG_B'] as const;
/** Pass-plan station codes: new stations are appended so the codes already flown keep their meaning. */
export const GROUND_STATIONS = ['beijing', 'jinan', 'hefei', 'stellenbosch', 'nanshan', 'wuhan', 'shanghai'] as const;

/** ST01 failure codes: why a request was refused or failed. */
export const FAILURE_CODES = [
  'NONE',
  'UNKNOWN_COMMAND',
  'MALFORMED',
  'BAD_CHECKSUM',
  'FIELD_OUT_OF_RANGE',
  'MODE_NOT_ALLOWED',
  'TRANSITION_NOT_ALLOWED',
  'FAULT_ACTIVE',
  'BUSY',
  'EXECUTION_FAILED',
  'MEMORY_ERROR',
  'UNKNOWN_PARAMETER',
  'UNKNOWN_SID',
  'UNKNOWN_EVENT',
  'TIMEOUT',
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];
