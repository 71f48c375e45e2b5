import { bytes16, enum16, enum8, f64, str8, u16, u32, uBits } from '../fields.ts';
import { FAILURE_CODES, MEMORY_IDS } from '../mission.ts';
import type { DictionaryPart, FieldDef } from '../types.ts';

/**
 * The standard PUS services the payload implements: ST01 verification, ST03
 * housekeeping control, ST05 event control, ST06 memory management, ST17 test and
 * ST20 parameters. Mission-specific content lives in the other parts.
 */

/** PUS-C request ID: the first 32 bits of the telecommand being reported on. */
const requestId: FieldDef[] = [
  uBits('tcVersion', 3, 'packet version number of the request'),
  uBits('tcType', 1, 'packet type of the request (1 = TC)'),
  uBits('tcSecHeader', 1, 'secondary header flag of the request'),
  uBits('tcApid', 11, 'APID of the request'),
  uBits('tcSeqFlags', 2, 'sequence flags of the request'),
  uBits('tcSeq', 14, 'packet sequence count of the request'),
];
const failure: FieldDef[] = [
  enum16('failureCode', FAILURE_CODES, 'why the request failed'),
  str8('detail', 160, 'human-readable reason, naming the field, mode or transition'),
];
const memoryId = enum8('memoryId', MEMORY_IDS, 'memory area: the two configuration flash banks');

/** `as const`: command names and fields stay literal types (the TC handler table is keyed by them). */
export const services = {
  commands: [
    { name: 'ENABLE_HK', service: 3, subtype: 5, fields: [u16('sid', 'housekeeping structure id')], description: 'Enable periodic reporting of a housekeeping structure.' },
    { name: 'DISABLE_HK', service: 3, subtype: 6, fields: [u16('sid', 'housekeeping structure id')], description: 'Disable periodic reporting of a housekeeping structure.' },
    { name: 'HK_ONE_SHOT', service: 3, subtype: 27, fields: [u16('sid', 'housekeeping structure id')], description: 'Report a housekeeping structure once, now.' },
    {
      name: 'SET_HK_INTERVAL',
      service: 3,
      subtype: 31,
      fields: [u16('sid', 'housekeeping structure id'), u32('intervalMs', 'reporting interval', { unit: 'ms', range: [100, 600_000] })],
      description: 'Change the reporting interval of a housekeeping structure.',
    },
    { name: 'ENABLE_EVENT', service: 5, subtype: 5, fields: [u16('eventId', 'event definition id')], description: 'Enable reporting of an event.' },
    { name: 'DISABLE_EVENT', service: 5, subtype: 6, fields: [u16('eventId', 'event definition id')], description: 'Disable reporting of an event.' },
    {
      name: 'LOAD_MEMORY',
      service: 6,
      subtype: 2,
      fields: [memoryId, u32('offset', 'start offset in the area', { unit: 'B', range: [0, 1_048_575] }), bytes16('data', 1024, 'bytes to write')],
      description: 'Load bytes into a configuration memory area.',
    },
    {
      name: 'DUMP_MEMORY',
      service: 6,
      subtype: 5,
      fields: [memoryId, u32('offset', 'start offset', { unit: 'B', range: [0, 1_048_575] }), u16('length', 'bytes to dump', { unit: 'B', range: [1, 1024] })],
      description: 'Dump bytes of a memory area as TM(6,6).',
    },
    {
      name: 'CHECK_MEMORY',
      service: 6,
      subtype: 9,
      fields: [memoryId, u32('offset', 'start offset', { unit: 'B', range: [0, 1_048_575] }), u32('length', 'bytes to check', { unit: 'B', range: [1, 1_048_576] })],
      description: 'Compute the CRC-32C of a memory range, reported as TM(6,10).',
    },
    { name: 'PING', service: 17, subtype: 1, fields: [], description: 'Are-you-alive test; answered by TM(17,2).' },
    { name: 'GET_PARAM', service: 20, subtype: 1, fields: [u16('paramId', 'parameter id')], description: 'Report a parameter value as TM(20,2).' },
    {
      name: 'SET_PARAM',
      service: 20,
      subtype: 3,
      fields: [u16('paramId', 'parameter id'), f64('value', 'new engineering value (checked against the parameter range)')],
      description: 'Set a parameter value.',
    },
  ],
  reports: [
    { name: 'VERIFY_ACCEPT_OK', service: 1, subtype: 1, fields: requestId, description: 'Successful acceptance verification.' },
    { name: 'VERIFY_ACCEPT_FAIL', service: 1, subtype: 2, fields: [...requestId, ...failure], description: 'Failed acceptance verification.' },
    { name: 'VERIFY_START_OK', service: 1, subtype: 3, fields: requestId, description: 'Successful start of execution.' },
    { name: 'VERIFY_START_FAIL', service: 1, subtype: 4, fields: [...requestId, ...failure], description: 'Failed start of execution.' },
    { name: 'VERIFY_COMPLETE_OK', service: 1, subtype: 7, fields: requestId, description: 'Successful completion of execution.' },
    { name: 'VERIFY_COMPLETE_FAIL', service: 1, subtype: 8, fields: [...requestId, ...failure], description: 'Failed completion of execution.' },
    {
      name: 'MEMORY_DUMP',
      service: 6,
      subtype: 6,
      fields: [memoryId, u32('offset', 'start offset', { unit: 'B' }), bytes16('data', 1024, 'dumped bytes')],
      description: 'Memory dump report.',
    },
    {
      name: 'MEMORY_CHECK',
      service: 6,
      subtype: 10,
      fields: [memoryId, u32('offset', 'start offset', { unit: 'B' }), u32('length', 'bytes checked', { unit: 'B' }), u32('crc32c', 'CRC-32C of the range')],
      description: 'Memory check report.',
    },
    { name: 'PONG', service: 17, subtype: 2, fields: [], description: 'Are-you-alive report.' },
    { name: 'PARAM_VALUE', service: 20, subtype: 2, fields: [u16('paramId', 'parameter id'), f64('value', 'engineering value')], description: 'Parameter value report.' },
  ],
} as const satisfies DictionaryPart;
