/** Host firewalls on Linux (iptables, nftables) make sense only where the device can run them. */
export const LINUX_HOSTS = ['linux', 'any'];

export const WINDOWS_HOSTS = ['windows', 'any'];

/**
 * The targets that can put a firewall on the device itself and the systems they run on;
 * `modes` when the target also has a gateway mode (option `mode`).
 */
export const HOST_FIREWALLS: ReadonlyArray<{ target: string; systems: readonly string[]; modes: boolean }> = [
  { target: 'iptables', systems: LINUX_HOSTS, modes: true },
  { target: 'nftables', systems: LINUX_HOSTS, modes: true },
  { target: 'windows', systems: WINDOWS_HOSTS, modes: false },
];

/** The targets' defaults for `mode` and `policy`: test/policy/lockout.test.ts holds them to the registry. */
export const HOST_DEFAULTS = { mode: 'host', policy: 'drop' } as const;

/**
 * The targets that would write a default-drop firewall for a device running `os`, given the
 * profile's target options: the ones that can lock its admins out.
 */
export function dropHostTargets(os: string, options: Record<string, Record<string, unknown>>): string[] {
  return HOST_FIREWALLS.filter((h) => {
    const given = options[h.target] ?? {};
    if (!h.systems.includes(os)) return false;
    if (h.modes && (given.mode ?? HOST_DEFAULTS.mode) !== 'host') return false;
    return (given.policy ?? HOST_DEFAULTS.policy) === 'drop';
  }).map((h) => h.target);
}
