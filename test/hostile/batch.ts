import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { botocorePython } from '../conformance/validators';

/**
 * The real tools over many files in as few processes as they allow, all at once: xmllint,
 * botocore and cfn-lint take a list, nft one file that includes the others; iptables and
 * dnsmasq run in a loop inside one shell (and one network namespace). Each resolves to the
 * failures, naming the file, and to '' when all pass.
 */
function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) => resolve(`${cmd}: ${String(err)}`));
    child.on('close', () => resolve(out));
  });
}

const none = Promise.resolve('');

const LOOP = (command: string) => `for f in "$@"; do out=$(${command} 2>&1) || echo "$f: $out"; done`;

/** nft takes a file that includes others as one transaction; netlink caps its size, so a few files each. */
const NFT_PER_CALL = 10;

/** Files checked in transactions of a few, each replacing its own table; errors name the included file. */
export function nftAll(files: string[], scratch: string): Promise<string> {
  if (files.length === 0) return none;
  const groups: string[] = [];
  for (let i = 0; i < files.length; i += NFT_PER_CALL) {
    const group = path.join(scratch, `nft-batch-${groups.length}.nft`);
    fs.writeFileSync(group, files.slice(i, i + NFT_PER_CALL).map((f) => `include ${JSON.stringify(f)}\n`).join(''));
    groups.push(group);
  }
  return sh('unshare', ['-Urn', 'sh', '-c', LOOP('nft -c -f "$f"'), 'sh', ...groups]);
}

/** One dnsmasq --test over a file that pulls in the others with conf-file=; errors name the file and line. */
export function dnsmasqAll(files: string[], scratch: string): Promise<string> {
  if (files.length === 0) return none;
  const all = path.join(scratch, 'dnsmasq-batch.conf');
  fs.writeFileSync(all, files.map((f) => `conf-file=${f}\n`).join(''));
  return sh('sh', ['-c', 'out=$(dnsmasq --test -C "$1" 2>&1) || echo "$out"', 'sh', all]);
}

/** Loads each folder's ipsets and restore files for real, cleaning the namespace in between. */
export function iptablesAll(dirs: string[]): Promise<string> {
  const script = `for d in "$@"; do
  out=$( { [ ! -f "$d/ipsets" ] || ipset -exist restore < "$d/ipsets"; } && iptables-restore -n < "$d/rules.v4" && ip6tables-restore -n < "$d/rules.v6" 2>&1) || echo "$d: $out"
  for t in iptables ip6tables; do $t -F; $t -X; done
  ipset flush 2>/dev/null; ipset destroy 2>/dev/null
done`;
  return dirs.length ? sh('unshare', ['-n', 'sh', '-c', script, 'sh', ...dirs]) : none;
}

export function xmllintAll(files: string[]): Promise<string> {
  return files.length ? sh('xmllint', ['--noout', ...files]) : none;
}

export function awsAll(kind: 'ec2-ingress' | 'ec2-egress' | 'network-firewall-rule-group', files: string[]): Promise<string> {
  return files.length ? sh(botocorePython(), [path.join(__dirname, '..', 'conformance', 'aws_validate.py'), kind, ...files]) : none;
}

export function cfnLintAll(files: string[]): Promise<string> {
  return files.length ? sh('cfn-lint', ['--format', 'parseable', ...files]) : none;
}

/** Files with the same content as an earlier one say nothing new to a validator. */
export function distinct(files: string[], key: (f: string) => string = (f) => fs.readFileSync(f, 'utf8')): string[] {
  const seen = new Set<string>();
  return files.filter((f) => {
    const digest = createHash('sha256').update(key(f)).digest('hex');
    if (seen.has(digest)) return false;
    seen.add(digest);
    return true;
  });
}

/** Every file under `dir` whose name matches. */
export function findFiles(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (pattern.test(e.name)) out.push(full);
    }
  };
  walk(dir);
  return out;
}
