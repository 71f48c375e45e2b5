export { missionParams, runMissionPass } from './run.ts';
export type { LinkErrorInjection, LockLossInjection, MissionPassOptions, MissionPassResult, MissionProgress, MissionSummary, RecordedTm } from './types.ts';
