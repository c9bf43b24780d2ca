// @ts-check
'use strict';
/**
 * The benchmark workloads, written three ways: as a fwgen profile, as an Aerleon YAML policy
 * with its network and service definitions, and as a Capirca .pol with NETWORK.net and
 * SERVICES.svc. All three say the same thing: terms of /32s, each allowing tcp 80 and 443 and
 * udp 123 out of one host (the shape of the Aerleon/Capirca benchmark kit).
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

/**
 * `count` distinct public IPv4 addresses, scattered over the address space and the same on
 * every run: a multiplicative hash of the index (odd multiplier, so a bijection on 32 bits),
 * skipping what is not public unicast.
 * @param {number} count
 * @returns {string[]}
 */
function scatteredAddresses(count) {
  const out = [];
  for (let i = 1; out.length < count; i++) {
    const n = Math.imul(i, 2654435761) >>> 0;
    const a = n >>> 24;
    if (a === 0 || a === 10 || a === 127 || a >= 224 || (a === 100 && (n >>> 22 & 3) === 1)) continue;
    if (a === 169 && (n >>> 16 & 255) === 254) continue;
    if (a === 172 && (n >>> 20 & 15) === 1) continue;
    if (a === 192 && (n >>> 16 & 255) === 168) continue;
    out.push(`${a}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`);
  }
  return out;
}

/**
 * @typedef {{ name: string, terms: number, perTerm: number, note: string }} Shape
 * A workload: `terms` terms of `perTerm` distinct /32s each (terms * perTerm addresses in all).
 */

/** @param {Shape} shape @returns {string[][]} the addresses of each term */
function termAddresses(shape) {
  const all = scatteredAddresses(shape.terms * shape.perTerm);
  return Array.from({ length: shape.terms }, (_v, t) => all.slice(t * shape.perTerm, (t + 1) * shape.perTerm));
}

const HOST = '203.0.113.10';
const RESOLVER = '203.0.113.53';
const pad = (/** @type {number} */ t) => String(t).padStart(5, '0');

/**
 * fwgen: one Linux host, each term two site flows (tcp 80/443, udp 123) to the same addresses.
 * A profile needs a vendor; Microsoft 365's services are for back-office PCs, which this site
 * does not bind, so the vendor selects nothing and the site flows are the whole policy.
 * @param {string} name @param {string[][]} terms @returns {string}
 */
function fwgenProfile(name, terms) {
  const lines = [
    'profile:',
    `  name: ${name}`,
    `  description: fwgen benchmark workload ${name}`,
    'region: eu',
    'environment: production',
    'vendors:',
    '  microsoft-365:',
    '    variables: { tenant: bench }',
    'deviceClasses:',
    `  ecommerce-web-server: { addresses: [${HOST}] }`,
    `resolvers: [${RESOLVER}]`,
    // Outbound terms only, as the Aerleon and Capirca policies it is compared with: the
    // lock-out checks are answered, not met, so the rendered rules stay the terms alone.
    'acknowledge:',
    '  - { check: management-access, deviceClass: ecommerce-web-server, reason: A benchmark workload that is never applied to a host }',
    '  - { check: inbound-web, deviceClass: ecommerce-web-server, reason: A benchmark workload that is never applied to a host }',
    'targets:',
    "  aws: { maxRules: 1000 }   # AWS's highest quota: small renders, aws-quota-200k is over it",
    'flows:',
  ];
  terms.forEach((addrs, t) => {
    const list = `[${addrs.join(', ')}]`;
    for (const [suffix, protocol, ports] of [['web', 'tcp', '[80, 443]'], ['ntp', 'udp', '[123]']]) {
      lines.push(
        `  - id: t${pad(t)}-${suffix}`,
        '    deviceClasses: [ecommerce-web-server]',
        '    direction: outbound',
        `    protocol: ${protocol}`,
        `    ports: ${ports}`,
        `    addresses: ${list}`,
      );
    }
  });
  return lines.join('\n') + '\n';
}

/** fwgen's target → the Aerleon/Capirca generator and header that writes the same thing. */
const THEIR_TARGET = {
  nftables: { aerleon: ['nftables', 'mixed OUTPUT'], capirca: 'nftables mixed OUTPUT' },
  iptables: { aerleon: ['ipset', 'OUTPUT DROP'], capirca: 'ipset OUTPUT DROP' },
};

/** @param {string[][]} terms @param {keyof typeof THEIR_TARGET} target @returns {string} */
function aerleonPolicy(terms, target) {
  const [platform, options] = THEIR_TARGET[target].aerleon;
  const lines = ['filters:', '  - header:', '      targets:', `        ${platform}: ${options}`, '    terms:'];
  terms.forEach((_a, t) => {
    lines.push(
      `      - name: t${pad(t)}`,
      `        destination-address: NET_${pad(t)}`,
      '        destination-port: HTTP HTTPS NTP',
      '        protocol: tcp udp',
      '        action: accept',
    );
  });
  return lines.join('\n') + '\n';
}

/** @param {string[][]} terms @returns {string} */
function aerleonNetworks(terms) {
  const lines = ['networks:'];
  terms.forEach((addrs, t) => {
    lines.push(`  NET_${pad(t)}:`, '    values:');
    for (const a of addrs) lines.push(`      - address: ${a}/32`);
  });
  return lines.join('\n') + '\n';
}

const AERLEON_SERVICES = [
  'services:',
  '  HTTP:',
  '    - port: 80',
  '      protocol: tcp',
  '  HTTPS:',
  '    - port: 443',
  '      protocol: tcp',
  '  NTP:',
  '    - port: 123',
  '      protocol: udp',
  '',
].join('\n');

/** @param {string[][]} terms @param {keyof typeof THEIR_TARGET} target @returns {string} */
function capircaPolicy(terms, target) {
  const lines = ['header {', `  target:: ${THEIR_TARGET[target].capirca}`, '}', ''];
  terms.forEach((_a, t) => {
    lines.push(
      `term t${pad(t)} {`,
      `  destination-address:: NET_${pad(t)}`,
      '  destination-port:: HTTP HTTPS NTP',
      '  protocol:: tcp udp',
      '  action:: accept',
      '}',
      '',
    );
  });
  return lines.join('\n');
}

/** @param {string[][]} terms @returns {string} */
function capircaNetworks(terms) {
  const lines = [];
  terms.forEach((addrs, t) => {
    addrs.forEach((a, i) => lines.push(i === 0 ? `NET_${pad(t)} = ${a}/32` : `    ${a}/32`));
    lines.push('');
  });
  return lines.join('\n');
}

const CAPIRCA_SERVICES = ['HTTP = 80/tcp', 'HTTPS = 443/tcp', 'NTP = 123/udp', ''].join('\n');

/**
 * @typedef {{
 *   dir: string, profile: string, addresses: number,
 *   aerleonDir: string, aerleonPolicy: (t: string) => string,
 *   capircaDir: string, capircaPolicy: (t: string) => string,
 * }} Workload
 */

/**
 * Writes one workload under `root/<name>/`:
 *   fwgen/<name>.yaml
 *   aerleon/policies/pol/<name>-<target>.yaml, aerleon/def/networks.yaml, services.yaml
 *   capirca/policies/pol/<name>-<target>.pol, capirca/def/NETWORK.net, SERVICES.svc
 * @param {string} root @param {Shape} shape @returns {Workload}
 */
function writeWorkload(root, shape) {
  const dir = path.join(root, shape.name);
  const terms = termAddresses(shape);
  const write = (/** @type {string} */ rel, /** @type {string} */ text) => {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };
  const profile = write(`fwgen/${shape.name}.yaml`, fwgenProfile(shape.name, terms));
  write('aerleon/def/networks.yaml', aerleonNetworks(terms));
  write('aerleon/def/services.yaml', AERLEON_SERVICES);
  write('capirca/def/NETWORK.net', capircaNetworks(terms));
  write('capirca/def/SERVICES.svc', CAPIRCA_SERVICES);
  for (const target of /** @type {Array<keyof typeof THEIR_TARGET>} */ (Object.keys(THEIR_TARGET))) {
    write(`aerleon/policies/pol/${shape.name}-${target}.yaml`, aerleonPolicy(terms, target));
    write(`capirca/policies/pol/${shape.name}-${target}.pol`, capircaPolicy(terms, target));
  }
  return {
    dir,
    profile,
    addresses: shape.terms * shape.perTerm,
    aerleonDir: path.join(dir, 'aerleon'),
    aerleonPolicy: (t) => path.join(dir, 'aerleon', 'policies', 'pol', `${shape.name}-${t}.yaml`),
    capircaDir: path.join(dir, 'capirca'),
    capircaPolicy: (t) => path.join(dir, 'capirca', 'policies', 'pol', `${shape.name}-${t}.pol`),
  };
}

/**
 * `count` copies of a shipped example profile (and its lock), each under its own name, as a
 * fleet of sites keeps them: `root/fleet/sites/site-0001.yaml`, `site-0001.lock.yaml`, ...
 * @param {string} root @param {string} example the profile path @param {number} count
 * @returns {{ dir: string, sites: string[] }}
 */
function writeFleet(root, example, count) {
  const dir = path.join(root, `fleet-${count}`, 'sites');
  fs.mkdirSync(dir, { recursive: true });
  const profile = fs.readFileSync(example, 'utf8');
  const lockFile = example.replace(/\.yaml$/, '.lock.yaml');
  const lock = fs.existsSync(lockFile) ? fs.readFileSync(lockFile, 'utf8') : undefined;
  const name = /^ {2}name: (\S+)$/m.exec(profile)?.[1];
  if (!name) throw new Error(`${example}: no profile.name to rename`);
  const sites = [];
  for (let i = 1; i <= count; i++) {
    const site = `site-${String(i).padStart(4, '0')}`;
    const file = path.join(dir, `${site}.yaml`);
    fs.writeFileSync(file, profile.replace(/^( {2}name: )\S+$/m, `$1${site}`));
    // Copied as it is: the lock's digest covers its header, and the names are the same.
    if (lock) fs.writeFileSync(path.join(dir, `${site}.lock.yaml`), lock);
    sites.push(file);
  }
  // The fleet is a workspace: one fwgen render renders every site with the catalog loaded once.
  fs.writeFileSync(path.join(dir, '..', 'fwgen.yaml'), 'sites: [sites/*.yaml]\noutput: out\n');
  return { dir, sites };
}

/**
 * `count` copies of the site `fwgen init` starts a workspace with (sites/store-00001.yaml, ...)
 * in a workspace of their own, as a chain keeps its stores: the fleet-scale case.
 * @param {string} root @param {number} count
 * @returns {{ dir: string, workspace: string }}
 */
function writeStarterFleet(root, count) {
  const dir = path.join(root, `starter-fleet-${count}`);
  const { initFiles } = require('../dist/workspace/init');
  /** @type {Array<{ path: string, content: string }>} */
  const files = initFiles({ site: 'store-00001', defaultBranch: 'main', schemaDir: 'x' });
  const site = files.find((f) => f.path.startsWith('sites/'));
  if (!site) throw new Error('fwgen init wrote no site');
  fs.mkdirSync(path.join(dir, 'sites'), { recursive: true });
  for (let i = 1; i <= count; i++) {
    const name = `store-${String(i).padStart(5, '0')}`;
    // Each store's hosts are named (one inventory host serves one site), as a chain's inventory names them.
    const hosts = `targets:\n  ansible:\n    hosts:\n      back-office-pc: [bo.${name}.example]\n      dns-resolver: [dns.${name}.example]\n`;
    fs.writeFileSync(path.join(dir, 'sites', `${name}.yaml`), site.content.replace('name: store-00001', `name: ${name}`) + hosts);
  }
  const workspace = path.join(dir, 'fwgen.yaml');
  fs.writeFileSync(workspace, 'sites: [sites/*.yaml]\noutput: out\n');
  return { dir, workspace };
}


/**
 * A pull request in a fleet: writeStarterFleet's `count` stores, rendered and committed, then
 * a commit that moves one store's resolver address with out/ brought up to date, as a pull
 * request that passes fwgen check. `fwgen check|diff --base HEAD~1` in it is what CI runs.
 * @param {string} root @param {string} fwgenBin @param {number} count @returns {string}
 */
function writePullRequestFleet(root, fwgenBin, count) {
  const { dir } = writeStarterFleet(path.join(root, `pr-${count}`), count);
  // No automatic gc: after the first commit of a large fleet, git would start one in the
  // background, which packs and prunes while the timed runs read the repository.
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@example.org',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@example.org',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'gc.auto',
    GIT_CONFIG_VALUE_0: '0',
  };
  const run = (/** @type {string} */ cmd, /** @type {string[]} */ args) => {
    const r = spawnSync(cmd, args, { cwd: dir, env, encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${dir}: ${r.stderr || r.error}`);
  };
  run('node', [fwgenBin, 'render']);
  run('git', ['init', '-q']);
  run('git', ['add', '-A']);
  run('git', ['commit', '-q', '-m', 'fleet']);
  const changed = path.join(dir, 'sites', `store-${String(Math.ceil(count / 2)).padStart(5, '0')}.yaml`);
  const before = fs.readFileSync(changed, 'utf8');
  const after = before.split('192.0.2.53').join('192.0.2.54');
  if (after === before) throw new Error('the starter site holds no 192.0.2.53 to change');
  fs.writeFileSync(changed, after);
  run('node', [fwgenBin, 'check', '--base', 'HEAD', '--update']);
  run('git', ['add', '-A']);
  run('git', ['commit', '-q', '-m', 'one site']);
  // Packed, as a clone in CI is: hundreds of thousands of loose objects are no repository's usual state.
  run('git', ['gc', '-q']);
  return dir;
}

module.exports = { scatteredAddresses, writeWorkload, writeFleet, writeStarterFleet, writePullRequestFleet, THEIR_TARGET };
