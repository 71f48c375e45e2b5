/**
 * PUS-C packets written by hand from the standards' layouts (CCSDS 133.0-B-2 primary
 * header, ECSS-E-ST-70-41C secondary headers, CUC 4+2 time, CRC-16/IBM-3740 PEC), with
 * the PEC computed by a separate bit-serial implementation, not by this project's code.
 * Each is split into its fields in the comment so it can be checked against the books.
 */
export const HAND_VECTORS = {
  // 1865: ver 000, type 1 (TC), sec hdr 1, APID 0x065 | c001: flags 11, seq 1 | 0006: 7 octets follow
  // 29: PUS v2, ack 1001 (acceptance + completion) | 11 01: ST17,1 | 0000: source 0 | 7a69: PEC
  pingTc: '1865c001000629110100007a69',
  // 0865: TM, sec hdr, APID 0x065 | c005: seq 5 | 000e | 20: PUS v2, time ref 0 | 11 02: ST17,2
  // 0007: msg counter 7 | 0001: destination 1 | 12345678 8000: CUC 4+2 = 0x12345678.5 s | f1f4: PEC
  pongTm: '0865c005000e20110200070001123456788000f1f4',
  // TM(1,1) for the ping above: request id 1865 c001 | time 100 s
  acceptOkTm: '0865c0060012200101000800010000006400001865c0014a10',
  // TC(8,1) function 0x0001 SET_MODE, mode 2 = STANDBY, source id 1
  setModeTc: '1865c0020009290801000100010237a5',
  // TM(5,1) event 100 MODE_CHANGED from 1 (BOOT) to 2 (STANDBY), time 101.25 s
  modeEventTm: '0865c00700122005010009000100000065400000640102d431',
  // TM(20,2) parameter 2 (MU_SIGNAL) = 0.8 as IEEE-754 binary64 3fe999999999999a
  paramTm: '0865c0080018201402000a000100000066000000023fe999999999999a28e0',
} as const;

export const hexBytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
