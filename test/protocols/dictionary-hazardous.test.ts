import { DOMParser, type Element } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { dictionaryJson, dictionaryMarkdown } from '../../protocols/dictionary/export.ts';
import { dictionaryXtce } from '../../protocols/dictionary/export-xtce.ts';
import { DICTIONARY } from '../../protocols/dictionary/index.ts';

/**
 * Issue 16: the dictionary marks the commands an operator must confirm (the config bank
 * switch, the board reset), and every export carries the mark: `hazardous` in the JSON,
 * XTCE's DefaultSignificance (consequenceLevel critical) on the MetaCommand, a line in
 * the Markdown reference.
 */
const HAZARDOUS = ['SELECT_CONFIG_BANK', 'RESET_BOARD'];

describe('hazardous commands', () => {
  it('the dictionary marks the bank switch and the board reset', () => {
    expect(DICTIONARY.commands.filter((c) => c.hazardous).map((c) => c.name)).toEqual(HAZARDOUS);
  });

  it('the JSON export says hazardous: true or false on every command', () => {
    const cmds = dictionaryJson().commands as { name: string; hazardous: boolean }[];
    expect(cmds.every((c) => typeof c.hazardous === 'boolean')).toBe(true);
    expect(cmds.filter((c) => c.hazardous).map((c) => c.name)).toEqual(HAZARDOUS);
  });

  it('the XTCE export gives those MetaCommands a critical DefaultSignificance, after their CommandContainer', () => {
    const doc = new DOMParser().parseFromString(dictionaryXtce(), 'text/xml');
    const NS = 'http://www.omg.org/spec/XTCE/20180204';
    const significant = Array.from(doc.getElementsByTagNameNS(NS, 'DefaultSignificance'));
    expect(significant.map((s) => (s.parentNode as Element).getAttribute('name'))).toEqual(HAZARDOUS);
    for (const s of significant) {
      expect(s.getAttribute('consequenceLevel')).toBe('critical');
      expect(s.getAttribute('reasonForWarning')).toMatch(/^hazardous: /);
      let prev = s.previousSibling;
      while (prev && prev.nodeType !== 1) prev = prev.previousSibling;
      expect((prev as Element).localName).toBe('CommandContainer');
    }
  });

  it('the Markdown reference says so under each', () => {
    const md = dictionaryMarkdown();
    for (const name of HAZARDOUS) expect(md.split(`### ${name} `)[1].split('\n### ')[0]).toMatch(/\*\*Hazardous\*\*/);
    expect(md.match(/\*\*Hazardous\*\*/g)).toHaveLength(HAZARDOUS.length);
  });
});
