import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * Draws a statechart as Mermaid `stateDiagram-v2`, straight from the machine's state
 * nodes and transition definitions (a pure function: machine in, text out). The docs
 * diagram of the mode manager is this function's output, checked by a test.
 */

export interface TransitionInfo {
  /** Stable key: source id, event, index among that event's candidates. */
  key: string;
  source: AnyStateNode;
  eventType: string;
  guard: string | null;
  targets: AnyStateNode[];
  /** The transition definition object itself (for matching what an actor took). */
  def: unknown;
}

export function allStateNodes(node: AnyStateNode): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  for (const child of Object.values(node.states) as AnyStateNode[]) out.push(child, ...allStateNodes(child));
  return out;
}

function guardName(g: unknown): string | null {
  if (!g) return null;
  if (typeof g === 'string') return g;
  if (typeof g === 'object' && g !== null && 'type' in g) return String((g as { type: unknown }).type);
  if (typeof g === 'function') return g.name || 'guard';
  return 'guard';
}

/**
 * Identity of a transition definition by what it is (source, event, guard, targets):
 * xstate may build delayed-transition objects more than once, so objects alone do not
 * match. Accepts the definitions actors report in their microsteps.
 */
export function transitionKey(d: { source: AnyStateNode; eventType: string; guard?: unknown; target?: readonly AnyStateNode[] | undefined }): string {
  return `${d.source.id}|${d.eventType}|${guardName(d.guard) ?? ''}|${(d.target ?? []).map((t) => t.id).join(',')}`;
}

/** Every transition definition of the machine, in document order (root first). */
export function allTransitions(machine: AnyStateMachine): TransitionInfo[] {
  const out: TransitionInfo[] = [];
  for (const node of [machine.root, ...allStateNodes(machine.root)]) {
    for (const [eventType, defs] of node.transitions as Map<string, Array<{ target?: AnyStateNode[]; guard?: unknown }>>) {
      defs.forEach((d, i) => {
        void i;
        out.push({ key: transitionKey({ source: node, eventType, guard: d.guard, target: d.target }), source: node, eventType, guard: guardName(d.guard), targets: d.target ?? [], def: d });
      });
    }
    (node.always ?? []).forEach((d, i) => {
      void i;
      out.push({ key: transitionKey({ source: node, eventType: 'always', guard: d.guard, target: d.target as AnyStateNode[] | undefined }), source: node, eventType: 'always', guard: guardName(d.guard), targets: (d.target ?? []) as AnyStateNode[], def: d });
    });
  }
  return out;
}

const mid = (n: AnyStateNode): string => (n.path.length === 0 ? 'root' : n.path.join('_'));

function eventLabel(t: TransitionInfo): string {
  const m = /^xstate\.after\.([^.]+)\./.exec(t.eventType);
  const ev = m ? `after ${m[1]}` : t.eventType;
  return t.guard ? `${ev} [${t.guard}]` : ev;
}

/**
 * Mermaid cannot draw an edge between states nested in different composite states, so
 * each transition is drawn in the block of the innermost state containing both ends,
 * between the two children of that state on the way to source and target; the label
 * then names the real source or target. A transition of a composite state into its own
 * descendant (a handler that applies in every substate) is drawn as a note.
 */
interface Drawn {
  /** Path of the composite whose block holds the line ('' = top level). */
  container: string;
  line: string;
}

function drawTransition(t: TransitionInfo, machine: AnyStateMachine): Drawn[] {
  const s = t.source;
  const label = eventLabel(t);
  if (s.path.length === 0) return [{ container: '', line: `note right of ${mid(Object.values(machine.root.states)[0] as AnyStateNode)} : in every state, ${label}${t.targets.length ? '' : ' (internal)'}` }];
  const parentKey = s.path.slice(0, -1).join('_');
  if (t.targets.length === 0) return [{ container: parentKey, line: `${mid(s)} --> ${mid(s)} : ${label} (internal)` }];
  return t.targets.map((tg): Drawn => {
    const a = s.path;
    const b = tg.path;
    let k = 0;
    while (k < a.length && k < b.length && a[k] === b[k]) k++;
    if (tg === s) return { container: parentKey, line: `${mid(s)} --> ${mid(s)} : ${label}` };
    if (k === a.length || k === b.length) {
      // One end contains the other: a handler for every substate, drawn as a note.
      const inner = k === a.length ? tg : s;
      return { container: inner.path.slice(0, -1).join('_'), line: `note right of ${mid(inner)} : ${label}, ${k === a.length ? `from anywhere in ${s.key}` : `to ${tg.key}`}` };
    }
    const from = a.slice(0, k + 1);
    const to = b.slice(0, k + 1);
    const notes = [from.length < a.length ? `from ${a.slice(k).join('.')}` : '', to.length < b.length ? `to ${b.slice(k).join('.')}` : ''].filter(Boolean);
    return { container: a.slice(0, k).join('_'), line: `${from.join('_')} --> ${to.join('_')} : ${label}${notes.length ? ` (${notes.join(', ')})` : ''}` };
  });
}

function emitNode(n: AnyStateNode, indent: string, lines: string[], edges: Map<string, string[]>): void {
  const id = mid(n);
  const children = Object.values(n.states) as AnyStateNode[];
  const tags = [...(n.tags ?? [])];
  const label = tags.length ? `${n.key} (mode ${tags.join(',')})` : n.key;
  if (children.length === 0) {
    lines.push(`${indent}state "${label}" as ${id}`);
    return;
  }
  lines.push(`${indent}state "${label}" as ${id} {`);
  if (n.type === 'parallel') {
    children.forEach((c, i) => {
      if (i > 0) lines.push(`${indent}  --`);
      emitNode(c, `${indent}  `, lines, edges);
    });
  } else {
    const initial = n.initial?.target?.[0] as AnyStateNode | undefined;
    if (initial) lines.push(`${indent}  [*] --> ${mid(initial)}`);
    for (const c of children) emitNode(c, `${indent}  `, lines, edges);
  }
  for (const e of edges.get(n.path.join('_')) ?? []) lines.push(`${indent}  ${e}`);
  lines.push(`${indent}}`);
}

export function toMermaid(machine: AnyStateMachine): string {
  const edges = new Map<string, string[]>();
  for (const t of allTransitions(machine)) {
    for (const d of drawTransition(t, machine)) {
      if (!edges.has(d.container)) edges.set(d.container, []);
      edges.get(d.container)!.push(d.line);
    }
  }
  const lines = ['stateDiagram-v2'];
  const root = machine.root;
  const initial = root.initial?.target?.[0] as AnyStateNode | undefined;
  if (initial) lines.push(`  [*] --> ${mid(initial)}`);
  for (const c of Object.values(root.states) as AnyStateNode[]) emitNode(c, '  ', lines, edges);
  for (const e of edges.get('') ?? []) lines.push(`  ${e}`);
  return `${lines.join('\n')}\n`;
}

/** The docs page: a heading, the diagram, and how to regenerate it. */
export function modeManagerDoc(machine: AnyStateMachine): string {
  return [
    '# Payload mode manager',
    '',
    'Generated from the machine in `firmware/modes.ts` by `firmware/diagram.ts`; do not edit by hand.',
    'Regenerate with `npx tsx test/firmware/diagram-cli.ts`; `test/firmware/diagram.test.ts` fails when this file',
    'no longer matches the machine.',
    '',
    '```mermaid',
    toMermaid(machine).trimEnd(),
    '```',
    '',
  ].join('\n');
}
