import type { BoundClass, Rule } from './types';

/** A device class that reaches host names but has no rule that lets it ask DNS for them. */
export interface UnresolvableClass {
  deviceClass: string;
  names: string[];
  /** The first rule that needs a name, for the message. */
  rule: Rule;
}

function allowsDns(rule: Rule): boolean {
  return rule.direction === 'outbound' && rule.protocol === 'udp' && rule.ports.some((p) => p.from <= 53 && 53 <= p.to);
}

/**
 * Classes whose rules name hosts but which may not send a DNS query (outbound udp 53) to
 * anyone: with a default drop they could never look those names up, so the rules would
 * allow nothing. The profile's resolvers: fixes it.
 */
export function classesWithoutDns(classes: ReadonlyArray<Pick<BoundClass, 'id'>>, rules: readonly Rule[]): UnresolvableClass[] {
  const out: UnresolvableClass[] = [];
  for (const c of classes) {
    const own = rules.filter((r) => r.deviceClass === c.id);
    const needing = own.filter((r) => r.remote.names.length > 0);
    if (needing.length === 0 || own.some(allowsDns)) continue;
    out.push({ deviceClass: c.id, names: [...new Set(needing.flatMap((r) => r.remote.names))].sort(), rule: needing[0]! });
  }
  return out;
}
