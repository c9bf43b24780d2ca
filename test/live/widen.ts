import type { Probe } from './probes';
import type { Rendered } from './render';

/**
 * A deliberately widened copy of rendered files, for the check that the harness notices a rule
 * that lets more through than the policy says: one rule's single port P becomes P to P+1.
 */
export interface Widened {
  rendered: Rendered;
  /** The forbidden probe that the widened rule now lets through. */
  probe: Probe;
}

/** Widens the port of the rule behind `probe` (an allowed probe on a single-port rule) in every file. */
export function widenPort(rendered: Rendered, probe: Probe, ruleId: string, probes: Probe[]): Widened {
  const next = besideAbove(probe, probes);
  if (!next) throw new Error(`no forbidden probe on port ${probe.port + 1} beside ${ruleId}`);
  const files = new Map<string, string>();
  let edits = 0;
  for (const [name, text] of rendered.files) {
    const lines = text.split('\n').map((line) => {
      if (!line.includes(`"${ruleId} (`)) return line;
      const widened = line
        .replace(new RegExp(`(?<!-)(dport )${probe.port}( )`), `$1${probe.port}-${probe.port + 1}$2`)
        .replace(new RegExp(`(--dport )${probe.port}( )`), `$1${probe.port}:${probe.port + 1}$2`);
      if (widened !== line) edits++;
      return widened;
    });
    files.set(name, lines.join('\n'));
  }
  if (edits === 0) throw new Error(`found no rule line of ${ruleId} with port ${probe.port} to widen`);
  return { rendered: { ...rendered, files }, probe: next };
}

/** The forbidden probe one port above an allowed one, same ends and protocol. */
export function besideAbove(probe: Probe, probes: Probe[]): Probe | undefined {
  return probes.find((p) => p.proto === probe.proto && p.src === probe.src && p.dst === probe.dst && p.port === probe.port + 1 && p.expect === 'drop');
}
