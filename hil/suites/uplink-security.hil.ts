import { describe, expect, it } from 'vitest';
import { crc16 } from '../../protocols/crc.ts';
import { decodePacket, encodeCommand } from '../../protocols/dictionary/index.ts';
import { TC_VC } from '../../protocols/link/mission.ts';
import type { AcceptedPacket, UplinkEvent } from '../../firmware/link/uplink-frontend.ts';
import { useBench } from '../fixture.ts';
import { recordingChannel } from '../link/channel-tap.ts';
import { OpticalLink } from '../link/optical-link.ts';

/**
 * An authentication attack on the uplink: an adversary who records the ground's TC
 * frames replays them, forges one (data altered, frame check recomputed so only the
 * MAC can catch it), truncates one and invents one under an unknown SPI. Each is
 * rejected, counted and reported; nothing reaches the payload; the genuine command
 * stream carries on.
 */
// The optical link is simulated and no board is involved, so the bench opens no line;
// it gives the run's seed (and the report its data).
const ctx = useBench({ boards: [], suite: import.meta.filename });

function withFecf(frame: Uint8Array): Uint8Array {
  const c = crc16(frame, 0, frame.length - 2);
  frame[frame.length - 2] = c >> 8;
  frame[frame.length - 1] = c & 0xff;
  return frame;
}

describe('uplink security', () => {
  it('rejects replayed, forged, truncated and unknown-SPI TC frames; genuine commands still arrive', () => {
    const delivered: AcceptedPacket[] = [];
    const events: UplinkEvent[] = [];
    const onAir: Uint8Array[] = [];
    const link = new OpticalLink({
      seed: ctx.bench.seed,
      elevationDeg: () => 60,
      onBoardPacket: (p) => delivered.push(p),
      onBoardEvent: (e) => events.push(e),
      decorateChannel: (ch, dir) => (dir === 'uplink' ? recordingChannel(ch, onAir) : ch),
    });

    link.sendTelecommand(encodeCommand('PING', {}, { seq: 1 }));
    link.advanceTo(1);
    expect(delivered.map((p) => decodePacket(p.bytes).name)).toEqual(['PING']);
    const recorded = onAir.find((f) => ((f[2] >> 2) & 0x3f) === TC_VC.telecommand && f.length > 40)!;
    expect(recorded).toBeDefined();

    const attacks: Record<string, Uint8Array> = {
      replay: recorded.slice(),
      forged: withFecf(Uint8Array.from(recorded, (b, i) => (i === 20 ? b ^ 0x01 : b))),
      truncated: withFecf(recorded.slice(0, recorded.length - 6)),
      unknownSpi: withFecf(Uint8Array.from(recorded, (b, i) => (i === 6 ? b ^ 0x40 : b))),
    };
    const before = { ...link.board.counters };
    const verdicts: Record<string, string[]> = {};
    for (const [name, frame] of Object.entries(attacks)) {
      const r = link.board.receive(frame);
      expect(r.packets, name).toEqual([]);
      verdicts[name] = r.events.map((e) => (e.kind === 'FRAME_REJECTED' ? `${e.stage}:${e.code}` : e.kind));
    }
    expect(verdicts.replay[0]).toMatch(/^SECURITY:(REPLAY|SEQUENCE_OUT_OF_WINDOW)$/);
    expect(verdicts.forged).toEqual(['SECURITY:AUTH_FAILED']);
    expect(verdicts.truncated[0]).toMatch(/^(FRAME|SECURITY):/);
    expect(verdicts.unknownSpi).toEqual(['SECURITY:UNKNOWN_SPI']);
    expect(link.board.counters.framesRejected - before.framesRejected).toBe(4);
    expect(link.board.counters.framesAccepted).toBe(before.framesAccepted);

    link.sendTelecommand(encodeCommand('SET_MODE', { mode: 'STANDBY' }, { seq: 2 }));
    link.advanceTo(2);
    expect(delivered.map((p) => decodePacket(p.bytes).name)).toEqual(['PING', 'SET_MODE']);
    expect(events.filter((e) => e.kind === 'FRAME_REJECTED')).toEqual([]);
  });
});
