import { describe, expect, it } from 'vitest';
import { parseJunit } from '../../hil/report/html.ts';

describe('JUnit parsing for the reports', () => {
  it('reads the test name, not the classname, and failures with their message', () => {
    const xml = `<testsuites><testsuite name="hil/suites/a.hil.ts">
      <testcase classname="hil/suites/a.hil.ts" name="board &gt; answers &quot;PING&quot;" time="0.5"></testcase>
      <testcase classname="hil/suites/a.hil.ts" name="board &gt; fails" time="1.25"><failure message="expected 1 to be 2" type="AssertionError"/></testcase>
      <testcase classname="hil/suites/a.hil.ts" name="board &gt; later" time="0"><skipped/></testcase>
    </testsuite></testsuites>`;
    expect(parseJunit(xml)).toEqual([
      { suite: 'hil/suites/a.hil.ts', name: 'board > answers "PING"', timeS: 0.5, failure: undefined, skipped: false },
      { suite: 'hil/suites/a.hil.ts', name: 'board > fails', timeS: 1.25, failure: 'expected 1 to be 2', skipped: false },
      { suite: 'hil/suites/a.hil.ts', name: 'board > later', timeS: 0, failure: undefined, skipped: true },
    ]);
  });
});
