import type { Clock } from '../../boards/clock.ts';
import type { BoardPort, SelfTestState } from '../../firmware/hal.ts';
import type { BoardName } from '../../protocols/dictionary/index.ts';
import type { RequestEngine } from '../request-engine.ts';

/**
 * What every bound port does over its board link (the callback face of the request
 * engine): the boot self-test is the engine's identity check against the board definition, after which the port starts the board's
 * telemetry stream and applies its initial register settings; reset is a RESET
 * request followed by the same start-up; the watchdog view is the age of the last
 * frame the board sent; the board temperature comes from the stream.
 */
export abstract class BoundPort implements BoardPort {
  abstract readonly board: BoardName;
  protected state: SelfTestState = 'idle';
  resets = 0;

  constructor(
    readonly client: RequestEngine,
    protected readonly clock: Clock,
    /** Telemetry period the port asks the board for. */
    protected readonly streamPeriodMs: number,
  ) {}

  /** Register writes that put the board in its working state (after identify and after each reset). */
  protected abstract startUp(): void;

  requestSelfTest(): void {
    this.state = 'running';
    this.client.verifyIdentity((id) => {
      if (!id) {
        this.state = 'failed';
        return;
      }
      this.client.request({ op: 'STREAM_START', periodMs: this.streamPeriodMs });
      this.startUp();
      this.state = 'passed';
    });
  }

  selfTestState(): SelfTestState {
    return this.state;
  }

  reset(): void {
    this.resets++;
    this.client.flush();
    this.client.request({ op: 'RESET', mode: 0 }, (r) => {
      if (!r) return;
      // The board rebooted with reset register values and no stream: bring it up again.
      this.client.request({ op: 'STREAM_START', periodMs: this.streamPeriodMs });
      this.startUp();
    });
  }

  lastAnswerAgeMs(): number {
    const t = this.client.lastAnswerMs;
    return t === -Infinity ? Infinity : this.clock.now() - t;
  }

  boardTempC(): number {
    return this.client.value('BOARD_TEMP_C', 25);
  }
}
