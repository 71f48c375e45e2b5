import { fromCallback, type EventObject } from 'xstate';
import { every, type ActorDeps } from './actor-kit.ts';
import { boardPorts } from './hal.ts';
import type { ActorInput, ModeEvent } from './modes.ts';
import { loadConfigSteps } from './params.ts';

/** Time each board gets to answer its boot self-test. */
export const SELF_TEST_TIMEOUT_MS = 1000;

/**
 * BOOT: self-test every board port (all at once, each must report 'passed' within
 * the timeout), then load the configuration: active bank, other bank, safe defaults,
 * reporting each step to the mode manager.
 */
export function bootActor(deps: ActorDeps) {
  return fromCallback<EventObject, ActorInput>(({ sendBack }) => {
    const boards = boardPorts(deps.ports);
    for (const b of boards) b.requestSelfTest();
    const startMs = deps.clock.now();
    deps.readings.bootMs = startMs;
    return every(deps.clock, 10, () => {
      const failed = boards.find((b) => b.selfTestState() === 'failed');
      const pending = boards.find((b) => b.selfTestState() !== 'passed');
      if (failed || (pending && deps.clock.now() - startMs >= SELF_TEST_TIMEOUT_MS)) {
        sendBack({ type: 'SELF_TEST_FAIL', board: (failed ?? pending)!.board } satisfies ModeEvent);
        return false;
      }
      if (pending) return true;
      sendBack({ type: 'SELF_TEST_OK' } satisfies ModeEvent);
      for (const step of loadConfigSteps(deps.ports.config)) {
        if (step.kind === 'bankFailed') sendBack({ type: 'CONFIG_BANK_FAILED', bank: step.bank, reason: step.reason } satisfies ModeEvent);
        else if (step.kind === 'loaded') sendBack({ type: 'CONFIG_LOADED', bank: step.bank, generation: step.generation, params: step.params } satisfies ModeEvent);
        else sendBack({ type: 'CONFIG_DEFAULTS' } satisfies ModeEvent);
      }
      return false;
    });
  });
}

/** SAFE: stop emission, centre the mirror, release body pointing. Runs once on entry. */
export function safingActor(deps: ActorDeps) {
  return fromCallback<EventObject, ActorInput>(() => {
    const { source, pointing, attitude } = deps.ports;
    source.stopFrame();
    pointing.commandFsmUrad(0, 0);
    attitude.releasePointing();
    return undefined;
  });
}

/** STANDBY: starts the pass at the plan's start time. */
export function passStartActor(deps: ActorDeps) {
  return fromCallback<EventObject, ActorInput>(({ input, sendBack }) => {
    const plan = input.plan;
    if (!plan) return undefined;
    const h = deps.clock.setTimeout(() => sendBack({ type: 'PASS_START' } satisfies ModeEvent), Math.max(0, (plan.startS - deps.missionTimeS()) * 1000));
    return () => deps.clock.clearTimeout(h);
  });
}

/** PASS: ends it at the plan's end time. */
export function passEndActor(deps: ActorDeps) {
  return fromCallback<EventObject, ActorInput>(({ input, sendBack }) => {
    const plan = input.plan;
    if (!plan) return undefined;
    const h = deps.clock.setTimeout(() => sendBack({ type: 'PASS_END' } satisfies ModeEvent), Math.max(0, (plan.endS - deps.missionTimeS()) * 1000));
    return () => {
      deps.clock.clearTimeout(h);
      deps.ports.attitude.releasePointing();
      deps.ports.pointing.commandFsmUrad(0, 0);
    };
  });
}
