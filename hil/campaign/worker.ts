import { runPass } from '../mission/physics-pass.ts';
import type { CampaignPass, CampaignWindow } from './plan.ts';

/** What a worker thread is given: one pass of the campaign and the campaign's window (structured-cloneable). */
export interface PassTask {
  pass: CampaignPass;
  window: CampaignWindow;
  durationS: number;
}

export interface PassOutcome {
  finalKeyBits: number;
  qber: number;
  durationS: number;
  siftedBits: number;
  keySha256: string;
}

/**
 * One campaign pass on the physics-only engine (hil/mission/physics-pass.ts: the fast
 * engine, no firmware): the pass numbered in the station's list over the campaign's
 * window, with the pass's own seed. A pass that throws rejects the task (a failed row).
 */
export function runCampaignPass(task: PassTask): PassOutcome {
  const { pass, window } = task;
  const s = runPass({
    station: pass.station,
    seed: pass.seed,
    durationS: task.durationS,
    tle: window.tle,
    pass: { from: new Date(window.fromUtc), days: window.days, number: pass.number },
  }).summary;
  return { finalKeyBits: s.finalKeyBits, qber: s.qber, durationS: s.durationS, siftedBits: s.siftedBits, keySha256: s.keySha256 };
}
