import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allStateNodes, allTransitions, modeManagerDoc, toMermaid } from '../../firmware/diagram.ts';
import { createModeMachine } from '../../firmware/modes.ts';
import { DOC_PATH } from './diagram-cli.ts';

describe('mode manager diagram (generated from the machine)', () => {
  const machine = createModeMachine();

  it('docs/mode-manager.md matches the machine (regenerate: npx tsx test/firmware/diagram-cli.ts)', () => {
    expect(readFileSync(DOC_PATH, 'utf8')).toBe(modeManagerDoc(machine));
  });

  it('draws every state node and every transition (one line each)', () => {
    const text = toMermaid(machine);
    expect(text.startsWith('stateDiagram-v2\n')).toBe(true);
    for (const n of allStateNodes(machine.root)) expect(text).toContain(` as ${n.path.join('_')}`);
    const drawnLines = text.split('\n').filter((l) => (l.includes(' --> ') && !l.includes('[*]')) || l.trim().startsWith('note '));
    expect(drawnLines.length).toBe(allTransitions(machine).reduce((a, t) => a + Math.max(1, t.targets.length), 0));
    for (const t of allTransitions(machine)) expect(text).toContain(t.eventType.startsWith('xstate.after.') ? `after ${t.eventType.split('.')[2]}` : t.eventType);
    // Siblings: drawn directly. Across composites: lifted to the siblings under the common ancestor, naming the real source.
    expect(text).toContain('ON_PASS_ENGAGED_FINE_POINTING --> ON_PASS_ENGAGED_QKD : FINE_LOCKED');
    expect(text).toContain('ON_PASS_ENGAGED --> ON_PASS_ACQUISITION : after relockWindow (from ENGAGED.QKD.pointing.relocking)');
    expect(text).toContain('note right of ON_SAFE : FAULT [faultWantsSafe], from anywhere in ON');
  });

  it('changes when the machine changes (the check can fail)', () => {
    const altered = createModeMachine().provide({});
    expect(toMermaid(altered)).toBe(toMermaid(machine));
    const doc = modeManagerDoc(machine).replace('FINE_LOCKED', 'FINE_LOCK');
    expect(doc).not.toBe(modeManagerDoc(machine));
  });
});
