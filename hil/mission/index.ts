export { DEFAULT_LINK_ERRORS, DEFAULT_LOOP_RATE_HZ, missionParams, runMissionPass, runMissionPassOnBench } from './run.ts';
export type { LinkErrorInjection, LockLossInjection, MissionPassOptions, MissionPassResult, MissionProgress, MissionSummary, PassSummaryBase, RecordedTm } from './types.ts';
export { attachBenchWorld, configImageFor, createPayloadRig, RIG_BAUD, RIG_BOARDS, seedOf } from './rig.ts';
export type { BenchWorld, BenchWorldOptions, PayloadRig, PayloadRigOptions, RigBoard, RigTm } from './rig.ts';
