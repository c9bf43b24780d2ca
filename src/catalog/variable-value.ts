import type { LocatedIssue, SourceLocation } from '../errors';
import { isCidrError, parseCidr, type Cidr } from '../net/addresses';
import { parsePort, type PortRange } from '../net/ports';
import { MAX_NAME_VALUE, type NamePattern } from './pattern';
import type { VariableKind } from './types';
import type { YamlSource } from './yaml-source';

/** A variable's value (a profile's, or a catalog default), already checked against its declaration. */
export type VariableValue =
  | { kind: 'name'; value: string; origin: SourceLocation }
  | { kind: 'addresses'; value: Cidr[]; origin: SourceLocation }
  | { kind: 'ports'; value: PortRange[]; origin: SourceLocation };

/** Checks a raw YAML value against a variable's kind (and pattern); problems go to `found`. */
export function checkVariable(
  kind: VariableKind,
  pattern: NamePattern | undefined,
  value: unknown,
  at: Array<string | number>,
  src: YamlSource,
  found: LocatedIssue[],
): VariableValue | undefined {
  const origin = src.locate(at);
  const items = Array.isArray(value) ? value : [value];
  if (kind === 'name') {
    if (Array.isArray(value)) {
      found.push(src.issue(at, `takes one value, not a list`));
      return undefined;
    }
    const text = String(value);
    if (text.length > MAX_NAME_VALUE) {
      found.push(src.issue(at, `the value is ${text.length} characters long; a name has at most ${MAX_NAME_VALUE}`));
      return undefined;
    }
    if (pattern && !pattern.matches(text)) {
      found.push(src.issue(at, `${JSON.stringify(text)} does not match the vendor's pattern ${pattern.source}`));
      return undefined;
    }
    return { kind: 'name', value: text, origin };
  }
  if (kind === 'addresses') {
    const cidrs: Cidr[] = [];
    items.forEach((item, i) => {
      const c = parseCidr(String(item));
      if (isCidrError(c)) found.push(src.issue(Array.isArray(value) ? [...at, i] : at, c.error));
      else cidrs.push(c);
    });
    return cidrs.length === items.length ? { kind: 'addresses', value: cidrs, origin } : undefined;
  }
  const ranges: PortRange[] = [];
  items.forEach((item, i) => {
    const r = parsePort(item as string | number);
    if ('error' in r) found.push(src.issue(Array.isArray(value) ? [...at, i] : at, r.error));
    else ranges.push(r);
  });
  return ranges.length === items.length ? { kind: 'ports', value: ranges, origin } : undefined;
}
