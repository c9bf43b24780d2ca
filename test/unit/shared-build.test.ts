import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderSite } from '../../src/render/site';
import { iptables } from '../../src/targets/iptables';
import { nftables } from '../../src/targets/nftables';
import { resolveOptions } from '../../src/targets/options';
import type { AnyTarget } from '../../src/targets/types';
import { catalogRoot, examplesRoot } from '../helpers';

const examples = fs.readdirSync(examplesRoot).filter((f) => f.endsWith('.yaml') && !f.endsWith('.lock.yaml'));
const chosen = [nftables, iptables] as unknown as AnyTarget[];

/** A target's files, views and diagnostics for one policy, asked for in the given order. */
function outputs(target: AnyTarget, policy: Parameters<AnyTarget['check']>[0], checkFirst: boolean) {
  const o = resolveOptions(target.options, policy.profile.targets?.[target.id], policy);
  const first = checkFirst ? target.check(policy, o) : undefined;
  const views = target.files(policy, o).map((f) => JSON.stringify([f, target.view(policy, o, f)]));
  const again = target.check(policy, o);
  return { diagnostics: first ?? again, again, views };
}

describe('nftables and iptables build once per policy, options and scope', () => {
  test.each(examples)('%s: the same files, views and diagnostics, whichever is asked first and however often', (file) => {
    const profile = path.join(examplesRoot, file);
    const rendered = renderSite(catalogRoot, profile, chosen);
    for (const target of chosen) {
      const fresh = renderSite(catalogRoot, profile, []).policy;
      const a = outputs(target, fresh, false);
      const b = outputs(target, rendered.policy, true);
      expect(a.diagnostics.length).toBeGreaterThan(0);
      expect(b.diagnostics).toEqual(a.diagnostics);
      expect(b.again).toEqual(a.diagnostics);
      expect(b.views).toEqual(a.views);
      expect(rendered.diagnostics.filter((d) => d.target === target.id)).toEqual(a.diagnostics);
    }
  });
});
