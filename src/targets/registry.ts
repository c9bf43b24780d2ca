import type * as AnsibleModule from './ansible';
import type * as AwsModule from './aws';
import type * as IptablesModule from './iptables';
import type * as NetworkFirewallModule from './network-firewall';
import type * as NftablesModule from './nftables';
import type * as PartsModule from './parts';
import type * as PfsenseModule from './pfsense';
import type * as WindowsModule from './windows';
import type { AnyTarget } from './types';

/**
 * A target as the registry lists it: its id, whether it has limits() (the policy snapshot asks
 * every target the site uses), and how to load its module. A render for one target loads that
 * target's module alone: loading all of them took a sixth of a large render for nftables.
 */
interface Entry {
  id: string;
  hasLimits: boolean;
  load: () => AnyTarget;
}

/**
 * Every target fwgen renders, in the order `fwgen targets` lists them. The aws target writes
 * the Network Firewall rule group beside its security groups: a generator of its own, in the
 * aws folder and under the aws name.
 */
const ENTRIES: Entry[] = [
  { id: 'iptables', hasLimits: false, load: () => (require('./iptables') as typeof IptablesModule).iptables },
  { id: 'nftables', hasLimits: false, load: () => (require('./nftables') as typeof NftablesModule).nftables },
  { id: 'pfsense', hasLimits: false, load: () => (require('./pfsense') as typeof PfsenseModule).pfsense },
  { id: 'windows', hasLimits: false, load: () => (require('./windows') as typeof WindowsModule).windows },
  {
    id: 'aws',
    hasLimits: true,
    load: () =>
      (require('./parts') as typeof PartsModule).withParts((require('./aws') as typeof AwsModule).aws, [
        (require('./network-firewall') as typeof NetworkFirewallModule).networkFirewall,
      ]),
  },
  { id: 'ansible', hasLimits: true, load: () => (require('./ansible') as typeof AnsibleModule).ansible },
];

/** Every member of a target but its id, each read from the module once it is loaded. */
const LOADED_MEMBERS: Record<Exclude<keyof AnyTarget, 'id'>, true> = {
  describe: true,
  apply: true,
  options: true,
  files: true,
  check: true,
  limits: true,
  view: true,
  reads: true,
};

/**
 * The target of an entry, its module loaded when a member other than its id is first read.
 * A target without limits answers `limits` without loading: asking costs nothing.
 */
function onFirstUse(entry: Entry): AnyTarget {
  let loaded: AnyTarget | undefined;
  const target = (): AnyTarget => {
    if (loaded) return loaded;
    loaded = entry.load();
    if (loaded.id !== entry.id || (loaded.limits !== undefined) !== entry.hasLimits) {
      throw new Error(`internal: the registry's entry ${entry.id} (limits: ${entry.hasLimits}) loads target ${loaded.id} (limits: ${loaded.limits !== undefined})`);
    }
    return loaded;
  };
  const proxy = { id: entry.id } as AnyTarget;
  for (const key of Object.keys(LOADED_MEMBERS) as Array<keyof typeof LOADED_MEMBERS>) {
    Object.defineProperty(proxy, key, {
      enumerable: true,
      get: () => (key === 'limits' && !entry.hasLimits ? undefined : target()[key]),
    });
  }
  return proxy;
}

export const targets: AnyTarget[] = ENTRIES.map(onFirstUse);

export function targetById(id: string): AnyTarget | undefined {
  return targets.find((t) => t.id === id);
}
