import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SuiteData } from '../../hil/report/suite-data.ts';

/**
 * A run's report directory as `npm run hil` leaves it (vitest JUnit XML, data/, metrics/,
 * run.json), made from known values so the report tests can check what it shows.
 */
export const RUN_INFO = {
  name: '20261130T120000-regression',
  commit: '0123456789abcdef0123456789abcdef01234567',
  dirty: true,
  bench: 'emulated',
  ports: { apt: 'tcp:127.0.0.1:7002' },
  seed: 7,
  startedAt: '2026-11-30T12:00:00.000Z',
  durationS: 63.25,
  command: 'npm start -- --seed 7',
};

export const JUNIT = `<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="4" failures="1" errors="0" time="12.5">
    <testsuite name="hil/suites/payload.hil.ts" timestamp="2026-11-30T12:00:01.000Z" hostname="vm" tests="2" failures="1" errors="0" skipped="0" time="8">
        <testcase classname="hil/suites/payload.hil.ts" name="FDIR &gt; OVER_TEMPERATURE -&gt; SAFE" time="1.5">
        </testcase>
        <testcase classname="hil/suites/payload.hil.ts" name="FDIR &gt; RNG_HEALTH" time="0.5">
            <failure message="expected SAFE" type="AssertionError"/>
        </testcase>
    </testsuite>
    <testsuite name="hil/suites/passes.hil.ts" timestamp="2026-11-30T12:00:09.000Z" hostname="vm" tests="2" failures="0" errors="0" skipped="1" time="4.5">
        <testcase classname="hil/suites/passes.hil.ts" name="nominal pass" time="4.5">
        </testcase>
        <testcase classname="hil/suites/passes.hil.ts" name="on real boards [skipped: needs simulated time]" time="0">
            <skipped/>
        </testcase>
    </testsuite>
</testsuites>
`;

const identity = (boardId: number, serialNumber: number) => ({ boardId, hwVersion: '1.1', fwVersion: '2.3.0', serialNumber, emulated: true });
const driver = { requests: 10, retries: 0, timeouts: 0, telemetryFrames: 5, telemetryLost: 0 };

function payloadData(): SuiteData {
  const ts = Array.from({ length: 50 }, (_, i) => i * 200);
  return {
    suite: 'payload.hil.ts',
    bench: 'emulated',
    clock: 'sim',
    seed: 7,
    endMs: 10_000,
    boards: [
      { name: 'apt', port: 'in-process emulator', capture: 'reports/captures/payload-seed7.apt.cap.jsonl', rejectedFrames: 0, driver, identity: identity(0x5102, 3903176945) },
      { name: 'qsrc', port: 'in-process emulator', capture: null, rejectedFrames: 1, driver, identity: identity(0x5101, 1839944010) },
    ],
    items: {
      'apt.SPOT_X_URAD': ts.map((t, i) => [t, Math.sin(i / 5) * 40]),
      'apt.BOARD_TEMP_C': ts.map((t) => [t, 25]), // flat: a board that did not move
      'qsrc.BOARD_TEMP_C': ts.map((t, i) => [t, 20 + i / 10]),
    },
    events: [
      ...Array.from({ length: 750 }, (_, i) => ({ t: i * 10, name: 'SOURCE_FRAME', severity: 'info', fields: { frame: i, berEstimate: Math.fround(0.1) } })),
      { t: 2000, name: 'FAULT_OVER_TEMPERATURE', severity: 'high', fields: { board: 'apt' } },
      { t: 2010, name: 'MODE_CHANGED', severity: 'info', fields: { from: 'QKD', to: 'SAFE' } },
    ],
    limits: [{ t: 1000, item: 'LINK_HK.berEstimate', value: Math.fround(0.1), from: 'green', to: 'red', detail: 'red high 0.001' }],
  };
}

function passData(): SuiteData {
  const ts = Array.from({ length: 40 }, (_, i) => i * 1000);
  return {
    suite: 'passes.hil.ts: nominal',
    bench: 'mission pass, in-process emulators (Beijing)',
    clock: 'sim',
    seed: 7,
    endMs: 40_000,
    boards: [{ name: 'apt', port: 'in-process emulator', capture: null, rejectedFrames: 0, driver, identity: null }],
    items: {
      'QKD_HK.qber': ts.map((t, i) => [t, i < 5 ? 0 : 0.02 + 0.001 * (i % 3)]),
      'QKD_HK.finalKeyBits': ts.map((t, i) => [t, i * 1000]),
      'PAYLOAD_HK.mode': ts.map((t, i) => [t, i < 3 ? 'STANDBY' : i < 35 ? 'QKD' : 'STANDBY']),
    },
    events: [
      { t: 3000, name: 'MODE_CHANGED', severity: 'info', fields: { from: 'STANDBY', to: 'QKD' } },
      { t: 15000, name: 'FINE_LOCK_LOST', severity: 'low', fields: {} },
    ],
    limits: [],
  };
}

/** A fresh report dir holding that run; `withRunJson` false leaves out run.json (older runs). */
export function makeRunDir(withRunJson = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'hil-report-'));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'metrics'));
  writeFileSync(join(dir, 'junit.xml'), JUNIT);
  writeFileSync(join(dir, 'data', 'payload.json'), JSON.stringify(payloadData()));
  writeFileSync(join(dir, 'data', 'passes-nominal.json'), JSON.stringify(passData()));
  writeFileSync(join(dir, 'metrics', 'nominal_pass.json'), JSON.stringify({ test: 'nominal pass', durationS: 328, qber: Math.fround(0.021), finalKeyBits: 39000 }));
  if (withRunJson) writeFileSync(join(dir, 'run.json'), JSON.stringify(RUN_INFO));
  return dir;
}
