import { ansible } from './ansible';
import { aws } from './aws';
import { iptables } from './iptables';
import { nftables } from './nftables';
import { pfsense } from './pfsense';
import { windows } from './windows';
import type { AnyTarget } from './types';

/** Every target fwgen renders, in the order `fwgen targets` lists them. */
export const targets: AnyTarget[] = [iptables, nftables, pfsense, windows, aws, ansible];

export function targetById(id: string): AnyTarget | undefined {
  return targets.find((t) => t.id === id);
}
