import { applyIptables, applyNftables, type Applied } from './apply';
import { aliasProbes, lanIpv6Probes, modelFor, planProbes, type Plan, type Probe } from './probes';
import { renderLinux, type LinuxTarget, type Mode, type Rendered } from './render';
import { LiveSite } from './site';
import { nextTag } from './suite';

export type { LinuxTarget };
export const LINUX_TARGETS: LinuxTarget[] = ['iptables', 'nftables'];
export const apply: Record<LinuxTarget, (site: LiveSite, r: Rendered, label: string) => Applied> = { iptables: applyIptables, nftables: applyNftables };

/** One example in one mode, in namespaces, with its listeners up and its probes planned. */
export interface Fixture {
  mode: Mode;
  site: LiveSite;
  plan: Plan;
  rendered: Record<LinuxTarget, Rendered>;
  /** Host mode: the classes that got a host file (Linux devices). */
  enforcing: Set<string>;
  /** Gateway mode: IPv6 from devices of classes without an IPv6 prefix. */
  lanV6: Probe[];
  /** Gateway mode: traffic of address aliases in no class on the hosts of classes bound to an interface. */
  aliases: Probe[];
}

export async function openFixture(file: string, mode: Mode): Promise<Fixture> {
  const rendered = renderLinux(file, mode);
  const policy = rendered.nftables.policy;
  const enforcing = new Set(mode === 'host' ? policy.deviceClasses.map((c) => c.id).filter((id) => rendered.nftables.files.has(`${id}.nft`)) : []);
  const plan = planProbes(policy, mode, enforcing);
  const lanV6 = mode === 'gateway' ? lanIpv6Probes(policy, plan.layout) : [];
  const aliases = mode === 'gateway' ? aliasProbes(policy, plan.layout, modelFor(policy, mode, enforcing, plan.layout)) : [];
  const site = LiveSite.build(nextTag(mode[0]!), policy, plan.layout);
  try {
    await site.listen([...plan.probes, ...lanV6, ...aliases]);
  } catch (e) {
    site.destroy();
    throw e;
  }
  return { mode, site, plan, rendered, enforcing, lanV6, aliases };
}
