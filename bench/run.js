#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * npm run bench [-- CASE ...] [--quick] [--runs N] [--timeout S] [--vs 'CMD'] [--yaml both] [--json FILE]
 *
 * Generates the workloads (bench/workloads.js) in a temporary folder, runs the built fwgen
 * (bin/fwgen.js over dist/) on each case several times, one process per run, and prints the
 * median wall time and CPU time (user + system), the peak RSS, the output size and the ratio to `node -e 0` measured in the
 * same run. See the README's Performance section.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const yargs = require('yargs');
const { scatteredAddresses, writeWorkload, writeFleet, writeStarterFleet, writePullRequestFleet, THEIR_TARGET } = require('./workloads');

const root = path.resolve(__dirname, '..');
const fwgenBin = path.join(root, 'bin', 'fwgen.js');
const example = path.join(root, 'examples', 'eu-restaurant-aloha.yaml');
const TIME = '/usr/bin/time';

/**
 * @typedef {{ name: string, terms: number, perTerm: number, note: string, heavy?: boolean }} Shape
 * @typedef {import('./workloads').Workload} Workload
 * @typedef {{ status: 'ok' | 'timeout' | 'failed', wallMs: number, cpuMs?: number, rssKb?: number, detail?: string }} Sample
 * @typedef {{
 *   name: string, note: string, heavy: boolean, runs?: number,
 *   argv: (out: string) => string[],
 *   expect?: RegExp, exit?: number,
 *   workload?: Workload, target?: string,
 *   warmup?: boolean,
 *   baselineOf?: string,
 *   env?: Record<string, string>,
 * }} Case
 */

/** @type {Shape[]} */
const SHAPES = [
  { name: 'small', terms: 10, perTerm: 5, note: '10 terms of 5 /32s' },
  { name: 'large', terms: 1000, perTerm: 20, note: '1,000 terms over 20,000 scattered /32s' },
  { name: 'large-flat', terms: 20000, perTerm: 1, note: '20,000 terms of one /32 each', heavy: true },
  { name: 'biggroup', terms: 1, perTerm: 20000, note: 'one term, one group of 20,000 /32s' },
  // The scaling series keeps 100 terms and grows the addresses, so time follows addresses alone.
  { name: 'scale-2k', terms: 100, perTerm: 20, note: '100 terms over 2,000 /32s' },
  { name: 'scale-20k', terms: 100, perTerm: 200, note: '100 terms over 20,000 /32s' },
  { name: 'scale-200k', terms: 100, perTerm: 2000, note: '100 terms over 200,000 /32s', heavy: true },
  { name: 'scale-1m', terms: 100, perTerm: 10000, note: '100 terms over 1,000,000 /32s', heavy: true },
  { name: 'aws-quota-200k', terms: 1, perTerm: 200000, note: 'one group of 200,000 /32s: over the security group quota', heavy: true },
];

/** Which targets each workload is rendered for. */
const TARGETS = /** @type {Record<string, string[]>} */ ({
  small: ['nftables', 'iptables', 'pfsense', 'aws'],
  'aws-quota-200k': ['aws'],
});
const DEFAULT_TARGETS = ['nftables', 'iptables'];

/**
 * The fleet: every site rendered by one `fwgen render` over the fleet's workspace, the
 * catalog loaded once (the loop of one process per site it replaces took 0.85 s a site).
 * @param {string[]} sites profile paths @param {string} out output folder @returns {string[]}
 */
function fleetCommand(sites, out) {
  // The fleet folder holds fwgen.yaml (see writeFleet): one process renders every site.
  const workspace = path.join(path.dirname(sites[0]), '..', 'fwgen.yaml');
  return ['node', fwgenBin, 'render', '-w', workspace, '-o', out];
}

/**
 * Each render case twice: cold (--no-cache: every file read and validated) and warm (a cache
 * of the bench's own, filled by one run that is not counted), or only the one asked for.
 * @param {Case[]} cases @param {string} tmp @param {'cold' | 'warm' | 'both'} mode @returns {Case[]}
 */
function withCacheModes(cases, tmp, mode) {
  const cacheDir = path.join(tmp, 'cache');
  return cases.flatMap((c) => {
    if (c.name.startsWith('cli-')) return [c];
    // Copied with its descriptors: a spread would call the lazy workload getter and write every workload.
    const variant = (/** @type {string} */ suffix, /** @type {string[]} */ extra, warmup = false) =>
      /** @type {Case} */ (Object.defineProperties(Object.defineProperties({}, Object.getOwnPropertyDescriptors(c)), {
        name: { value: `${c.name} ${suffix}`, enumerable: true },
        argv: { value: (/** @type {string} */ out) => [...c.argv(out), ...extra], enumerable: true },
        warmup: { value: warmup, enumerable: true },
      }));
    const cold = variant('cold', ['--no-cache']);
    const warm = variant('warm', ['--cache-dir', cacheDir], true);
    return mode === 'cold' ? [cold] : mode === 'warm' ? [warm] : [cold, warm];
  });
}

/**
 * Which YAML reader the render cases use: fwgen's own choice (the fast reader where it
 * vouches for a file), the reference reader alone (FWGEN_YAML=reference), or both, each
 * reference case right after its fast one, whose time and RSS its `× baseline` column divides.
 * @param {Case[]} cases @param {'fast' | 'reference' | 'both'} mode @returns {Case[]}
 */
function withYamlReaders(cases, mode) {
  if (mode === 'fast') return cases;
  return cases.flatMap((c) => {
    if (c.name.startsWith('cli-') || c.name.startsWith('query/')) return [c];
    const reference = /** @type {Case} */ (Object.defineProperties(Object.defineProperties({}, Object.getOwnPropertyDescriptors(c)), {
      name: { value: `${c.name} ${YAML_REF}`, enumerable: true },
      env: { value: { FWGEN_YAML: 'reference' }, enumerable: true },
      baselineOf: { value: c.name, enumerable: true },
    }));
    return mode === 'reference' ? [reference] : [c, reference];
  });
}
const YAML_REF = 'yaml-ref';

/** @param {string} tmp @param {boolean} quick @returns {Case[]} */
function allCases(tmp, quick) {
  const fwgen = (/** @type {string[]} */ args) => ['node', fwgenBin, ...args];
  /** @type {Case[]} */
  const cases = [
    { name: 'cli-version', note: 'fwgen --version', heavy: false, argv: () => fwgen(['--version']) },
    { name: 'cli-help', note: 'fwgen --help', heavy: false, argv: () => fwgen(['--help']) },
    {
      name: 'example/all',
      note: `${path.relative(root, example)} to every target`,
      heavy: false,
      argv: (out) => fwgen(['render', '-p', example, '-o', out]),
    },
  ];
  for (const shape of SHAPES) {
    /** @type {Workload | undefined} */
    let workload;
    const lazy = () => (workload ??= writeWorkload(tmp, shape));
    for (const target of TARGETS[shape.name] ?? DEFAULT_TARGETS) {
      cases.push({
        name: `${shape.name}/${target}`,
        note: shape.note,
        heavy: shape.heavy === true,
        argv: (out) => fwgen(['render', '-p', lazy().profile, '-t', target, '-o', out]),
        expect: shape.name === 'aws-quota-200k' ? /over the limit of 1000/ : undefined,
        get workload() {
          return lazy();
        },
        target,
      });
    }
  }
  cases.push(...queryCases(tmp, fwgen));
  // A quick run keeps the fleet small enough to finish under the time cap on a busy machine.
  const sites = quick ? 20 : 1000;
  /** @type {{ dir: string, sites: string[] } | undefined} */
  let fleet;
  cases.push({
    name: `fleet-${sites}/all`,
    note: `${sites} copies of the restaurant example, every target`,
    heavy: true,
    argv: (out) => fleetCommand((fleet ??= writeFleet(tmp, example, sites)).sites, out),
  });
  // Fleet scale: fwgen init's starter site 10,000 times, against the same workspace with one
  // site (the start-up and the catalog, paid once) measured in the same run: the ratio says
  // what the sites cost, the peak RSS whether memory grows with them.
  const starter = quick ? 200 : 10000;
  /** @type {Record<number, { workspace: string }>} */
  const starterFleets = {};
  for (const count of [1, starter]) {
    cases.push({
      name: `starter-${count}/all`,
      note: count === 1 ? "fwgen init's starter site alone, in a workspace: the baseline of the next case" : `${count.toLocaleString('en')} copies of fwgen init's starter site, every target (goal: ≤ 60 s, ≤ 1 GB)`,
      heavy: count > 1,
      argv: (out) => ['node', fwgenBin, 'render', '-w', (starterFleets[count] ??= writeStarterFleet(tmp, count)).workspace, '-o', out],
      baselineOf: count === 1 ? undefined : `starter-1/all`,
    });
  }
  // A pull request that changes one site's profile, in a fleet of starter sites committed as rendered;
  // a full check of 100 such sites is the yardstick the incremental runs are read against.
  const prSites = quick ? 200 : 10000;
  /** @type {Record<number, string>} */
  const prFleets = {};
  const prFleet = (/** @type {number} */ n) => (prFleets[n] ??= writePullRequestFleet(tmp, fwgenBin, n));
  cases.push(
    { name: 'pr-100/check-full', note: 'fwgen check of 100 starter sites, every site rendered: the yardstick of the next two', heavy: true, argv: () => fwgen(['check', '-w', prFleet(100)]) },
    {
      name: `pr-${prSites}/check-base`,
      note: `fwgen check --base HEAD~1, one of ${prSites.toLocaleString('en')} sites changed (goal: ≤ 3 s)`,
      heavy: true,
      argv: () => fwgen(['check', '-w', prFleet(prSites), '--base', 'HEAD~1']),
      baselineOf: 'pr-100/check-full',
    },
    {
      name: `pr-${prSites}/diff-base`,
      note: `fwgen diff --base HEAD~1 (exit 2: a policy change), one of ${prSites.toLocaleString('en')} sites changed (goal: ≤ 3 s)`,
      heavy: true,
      exit: 2,
      argv: () => fwgen(['diff', '-w', prFleet(prSites), '--base', 'HEAD~1']),
      baselineOf: 'pr-100/check-full',
    },
  );
  return cases;
}

/**
 * fwgen query on the large workload: from the policy, and from its rendered nftables and
 * iptables files (rendered once, before the timed runs). The answer itself is timed in
 * test/query/speed.test.ts; these cases time the whole command as a user runs it.
 * @param {string} tmp @param {(args: string[]) => string[]} fwgen @returns {Case[]}
 */
function queryCases(tmp, fwgen) {
  const shape = /** @type {Shape} */ (SHAPES.find((s) => s.name === 'large'));
  /** @type {Workload | undefined} */
  let workload;
  const rendered = path.join(tmp, 'query-large-out');
  const ready = () => {
    if (workload) return workload;
    workload = writeWorkload(tmp, shape);
    const r = require('node:child_process').spawnSync(process.execPath, [fwgenBin, 'render', '-p', workload.profile, '-t', 'nftables', '-t', 'iptables', '-o', rendered], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`query cases: render failed: ${r.stderr}`);
    return workload;
  };
  // The last term's last address: the first-match walk goes through every rule before it.
  const to = scatteredAddresses(shape.terms * shape.perTerm).at(-1) ?? '';
  const ask = ['--from', 'ecommerce-web-server', '--to', to, '--port', '443'];
  const site = path.join(rendered, shape.name);
  return [
    { name: 'query/large', note: `fwgen query -p on ${shape.note}`, heavy: false, argv: () => fwgen(['query', '-p', ready().profile, ...ask]) },
    {
      name: 'query/large-nftables',
      note: 'fwgen query --file on its rendered nftables file',
      heavy: false,
      argv: () => (ready(), fwgen(['query', '--file', path.join(site, 'nftables', 'ecommerce-web-server.nft'), '--hook', 'output', ...ask.slice(2)]).concat(['--from', '203.0.113.10'])),
    },
    {
      name: 'query/large-iptables',
      note: 'fwgen query --file on its rendered iptables files and ipsets',
      heavy: false,
      argv: () => (ready(), fwgen(['query', ...['ipsets', 'rules.v4'].flatMap((f) => ['--file', path.join(site, 'iptables', `ecommerce-web-server.${f}`)]), '--hook', 'output', ...ask.slice(2)]).concat(['--from', '203.0.113.10'])),
    },
  ];
}

/** @param {number[]} xs */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** @param {string} dir @returns {number} bytes of every file under dir */
function sizeOf(dir) {
  if (!fs.existsSync(dir)) return 0;
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? sizeOf(p) : fs.statSync(p).size;
  }
  return total;
}

const hasTime = fs.existsSync(TIME);

/**
 * One run of argv: wall time, CPU time (GNU time's %U + %S, user and system, of the process
 * and its children: on a shared machine the fairer measure), peak RSS (%M, the largest of the process and its
 * children), killed with its whole process group past the time cap.
 * @param {string[]} argv @param {number} capMs @param {RegExp | undefined} expect
 * @param {Record<string, string> | undefined} env added to the bench's own environment
 * @param {number} [exit] the exit status of a run that did its job (diff: 2 when the policy changed)
 * @returns {Promise<Sample>}
 */
function runOnce(argv, capMs, expect, env, exit = 0) {
  const rssFile = path.join(os.tmpdir(), `fwgen-bench-rss-${process.pid}`);
  const full = hasTime ? [TIME, '-f', '%U %S %M', '-o', rssFile, ...argv] : argv;
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(full[0], full.slice(1), { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: env ? { ...process.env, ...env } : process.env });
    let stderr = '';
    child.stderr.on('data', (d) => {
      if (stderr.length < 1 << 20) stderr += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(/** @type {number} */ (child.pid)), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, capMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      let rssKb;
      let cpuMs;
      if (hasTime && fs.existsSync(rssFile)) {
        const m = /([\d.]+) ([\d.]+) (\d+)\s*$/.exec(fs.readFileSync(rssFile, 'utf8'));
        cpuMs = m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined;
        rssKb = m ? Number(m[3]) : undefined;
      }
      fs.rmSync(rssFile, { force: true });
      if (timedOut) return resolve({ status: 'timeout', wallMs });
      const ok = expect ? code === 1 && expect.test(stderr) : code === exit;
      if (ok) return resolve({ status: 'ok', wallMs, cpuMs, rssKb });
      const why = stderr.split('\n').find((l) => l.trim() && !/^Command exited with non-zero status/.test(l)) ?? '';
      resolve({ status: 'failed', wallMs, cpuMs, rssKb, detail: `exit ${code}: ${why.slice(0, 200)}` });
    });
  });
}

/**
 * Runs each command `runs` times, taking turns (a, b, a, b, ...) so that a change in the
 * machine's load falls on both alike; each run gets a fresh output folder. A command stops
 * being run after its first run that times out or fails.
 * @param {{ argv: (out: string) => string[], expect?: RegExp, env?: Record<string, string>, exit?: number }[]} commands
 * @param {number} runs @param {number} capMs @param {string} outBase
 */
async function measureEach(commands, runs, capMs, outBase) {
  const state = commands.map(() => ({ /** @type {Sample[]} */ samples: [], bytes: 0, done: false }));
  for (let i = 0; i < runs; i++) {
    for (const [k, c] of commands.entries()) {
      const st = state[k];
      if (st.done) continue;
      fs.rmSync(outBase, { recursive: true, force: true });
      fs.mkdirSync(outBase, { recursive: true });
      const s = await runOnce(c.argv(outBase), capMs, c.expect, c.env, c.exit);
      st.samples.push(s);
      if (s.status !== 'ok') st.done = true;
      else st.bytes = sizeOf(outBase);
    }
  }
  return state.map(({ samples, bytes }) => {
    const failed = samples.find((s) => s.status !== 'ok');
    return {
      status: failed ? failed.status : 'ok',
      detail: failed?.detail,
      runs: samples.length,
      medianMs: failed ? undefined : median(samples.map((s) => s.wallMs)),
      wallMs: samples.map((s) => Math.round(s.wallMs)),
      cpuMedianMs: failed || samples.some((s) => s.cpuMs === undefined) ? undefined : median(samples.map((s) => /** @type {number} */ (s.cpuMs))),
      peakRssMb: samples.some((s) => s.rssKb !== undefined) ? Math.max(...samples.map((s) => s.rssKb ?? 0)) / 1024 : undefined,
      outputBytes: bytes,
    };
  });
}

/** @param {(out: string) => string[]} argv @param {number} runs @param {number} capMs @param {string} outBase @param {RegExp} [expect] @param {Record<string, string>} [env] @param {number} [exit] */
async function measure(argv, runs, capMs, outBase, expect, env, exit) {
  return (await measureEach([{ argv, expect, env, exit }], runs, capMs, outBase))[0];
}

/**
 * The placeholders a --vs command may use, for one case.
 * @param {Case} c @param {string} out
 * @returns {Record<string, string>}
 */
function placeholders(c, out) {
  const w = c.workload;
  const t = c.target ?? '';
  return {
    case: c.name,
    target: t,
    out_dir: out,
    fwgen_profile: w?.profile ?? '',
    aerleon_dir: w?.aerleonDir ?? '',
    aerleon_policy: w ? w.aerleonPolicy(t) : '',
    capirca_dir: w?.capircaDir ?? '',
    capirca_policy: w ? w.capircaPolicy(t) : '',
  };
}

/**
 * `--vs capirca` and `--vs aerleon` name the usual command lines; both tools install an
 * `aclgen` (Capirca: Debian's python3-capirca; Aerleon: pip install aerleon), so put the one
 * meant first on PATH.
 */
const VS_PRESETS = /** @type {Record<string, string>} */ ({
  capirca: 'aclgen --base_directory={capirca_dir}/policies --definitions_directory={capirca_dir}/def --policy_file={capirca_policy} --output_directory={out_dir}',
  aerleon: 'aclgen --base_directory {aerleon_dir}/policies --definitions_directory {aerleon_dir}/def --policy_file {aerleon_policy} --output_directory {out_dir}',
});

/** @param {string} cmd @param {Record<string, string>} values */
function substitute(cmd, values) {
  return cmd.replace(/\{([a-z_]+)\}/g, (m, k) => {
    if (!(k in values)) throw new Error(`--vs: unknown placeholder ${m} (known: ${Object.keys(values).map((x) => `{${x}}`).join(' ')})`);
    return values[k];
  });
}

/** @param {number | undefined} ms */
const fmtTime = (ms) => (ms === undefined ? '-' : ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
/** @param {number | undefined} mb */
const fmtMb = (mb) => (mb === undefined ? '-' : `${Math.round(mb)} MB`);
/** @param {number} b */
const fmtBytes = (b) => (b === 0 ? '-' : b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);

/** @param {string[][]} rows */
function markdownTable(rows) {
  const line = (/** @type {string[]} */ r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(rows[0]), `|${rows[0].map((_c, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.slice(1).map(line)].join('\n') + '\n';
}

/** @param {string[][]} rows */
function table(rows) {
  const widths = rows[0].map((_h, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

/** @param {Case} c @param {string[]} wanted */
function selected(c, wanted) {
  if (wanted.length === 0) return true;
  const workload = c.name.split('/')[0];
  const plain = c.name.replace(new RegExp(`(?: (?:cold|warm))?(?: ${YAML_REF})?$`), '');
  return wanted.some((w) => c.name === w || plain === w || workload === w || (w.endsWith('*') && c.name.startsWith(w.slice(0, -1))));
}

async function main() {
  const argv = yargs(process.argv.slice(2))
    .scriptName('npm run bench --')
    .command('$0 [cases..]', 'Renders generated workloads with the built fwgen and prints a table of medians.', (y) =>
      y.positional('cases', {
        type: 'string',
        array: true,
        describe: 'cases to run: a name (large/nftables), a workload (large) or a prefix ending in * (scale-*); default all',
      }),
    )
    .option('quick', { type: 'boolean', default: false, describe: 'fewer runs (3, 1 for the heavy cases) and a 20-site fleet' })
    .option('runs', { type: 'number', describe: 'runs per case (default 5, 1 for the heavy cases)' })
    .option('timeout', { type: 'number', default: 60, describe: 'seconds a run may take before the case is reported as timeout' })
    .option('vs', {
      type: 'string',
      describe:
        'capirca, aerleon, or a command to run on the same workloads for a ratio column (only cases whose target they have: nftables, iptables); placeholders: {aerleon_dir} {aerleon_policy} {capirca_dir} {capirca_policy} {fwgen_profile} {target} {out_dir} {case}',
    })
    .option('cache', { choices: ['cold', 'warm', 'both'], default: 'both', describe: "render cases without fwgen's cache (cold), with it filled by an uncounted run (warm), or both" })
    .option('yaml', {
      choices: ['fast', 'reference', 'both'],
      default: 'fast',
      describe: `render cases with fwgen's usual reader (fast), the reference reader alone (FWGEN_YAML=reference), or both, each reference case ("${YAML_REF}") beside its fast one`,
    })
    .option('json', { type: 'string', describe: 'also write the results to this file' })
    .option('markdown', { type: 'boolean', default: false, describe: 'print the table as Markdown (for the README)' })
    .option('keep', { type: 'boolean', default: false, describe: 'keep the generated workloads and print where they are' })
    .option('list', { type: 'boolean', default: false, describe: 'list the cases and exit' })
    .example('$0 --quick', 'every case, fewer runs')
    .example('$0 large biggroup', 'the large and biggroup workloads, every target')
    .example('$0 large biggroup --vs capirca', "against Capirca's aclgen (Debian: apt-get install python3-capirca)")
    .example("$0 example/all large/nftables scale-200k/nftables 'fleet-*' --yaml both", 'the reference YAML reader against the fast one, case by case')
    .example("$0 large/nftables --vs 'aclgen --base_directory {aerleon_dir}/policies --definitions_directory {aerleon_dir}/def --policy_file {aerleon_policy} --output_directory {out_dir}'", 'the same as --vs aerleon, spelt out')
    .strict()
    .version(false)
    .help()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .parseSync();

  if (!fs.existsSync(path.join(root, 'dist', 'cli.js'))) {
    process.stderr.write('bench: dist/ is missing; run npm run build (npm ci does it)\n');
    return 1;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fwgen-bench-'));
  try {
    const wanted = (argv.cases ?? []).map(String);
    const modes = withCacheModes(allCases(tmp, argv.quick), tmp, /** @type {'cold' | 'warm' | 'both'} */ (argv.cache));
    const cases = withYamlReaders(modes, /** @type {'fast' | 'reference' | 'both'} */ (argv.yaml)).filter((c) => selected(c, wanted));
    if (argv.list) {
      for (const c of cases) process.stdout.write(`${c.name.padEnd(24)} ${c.note}\n`);
      return 0;
    }
    if (cases.length === 0) {
      process.stderr.write(`bench: no case matches ${wanted.join(' ')} (see --list)\n`);
      return 1;
    }
    const vsCommand = argv.vs === undefined ? undefined : (VS_PRESETS[argv.vs] ?? argv.vs);
    const capMs = argv.timeout * 1000;
    const runsFor = (/** @type {Case} */ c) => argv.runs ?? (c.heavy ? 1 : argv.quick ? 3 : 5);
    const outBase = path.join(tmp, 'out');
    if (!hasTime) process.stderr.write(`bench: ${TIME} is missing (Debian package time): peak RSS is not measured\n`);

    const baselineRuns = argv.runs ?? (argv.quick ? 5 : 10);
    const nodeBare = () => ['node', '-e', '0'];
    const baseline = await measure(nodeBare, baselineRuns, capMs, outBase);
    process.stderr.write(`node -e 0: ${fmtTime(baseline.medianMs)} (median of ${baseline.runs})\n`);

    const results = [];
    for (const c of cases) {
      const runs = runsFor(c);
      process.stderr.write(`${c.name}: ${runs} run${runs === 1 ? '' : 's'}...`);
      const vs = vsCommand && c.workload && c.target && c.target in THEIR_TARGET ? /** @type {string} */ (vsCommand) : undefined;
      /** @type {{ argv: (out: string) => string[], expect?: RegExp, env?: Record<string, string>, exit?: number }[]} */
      // `node -e 0` takes its turn with each case, so the ratio holds when the load changes.
      const commands = [{ argv: nodeBare }, { argv: c.argv, expect: c.expect, env: c.env, exit: c.exit }];
      if (c.warmup) await measure(c.argv, 1, capMs, outBase, c.expect, c.env, c.exit);
      if (vs) commands.push({ argv: (out) => ['sh', '-c', substitute(vs, placeholders(c, out))] });
      const [base, r, v] = await measureEach(commands, runs, capMs, outBase);
      /** @type {Record<string, unknown>} */
      const row = {
        case: c.name,
        note: c.note,
        ...r,
        nodeMs: base.medianMs,
        nodeCpuMs: base.cpuMedianMs,
        vsNode: r.medianMs && base.medianMs ? r.medianMs / base.medianMs : undefined,
        cpuVsNode: r.cpuMedianMs && base.cpuMedianMs ? r.cpuMedianMs / base.cpuMedianMs : undefined,
      };
      const against = c.baselineOf ? /** @type {any} */ (results.find((x) => /** @type {any} */ (x).case === c.baselineOf)) : undefined;
      if (against?.medianMs && r.medianMs) {
        row.baseline = { case: c.baselineOf, timeRatio: r.medianMs / against.medianMs, rssRatio: r.peakRssMb && against.peakRssMb ? r.peakRssMb / against.peakRssMb : undefined };
        process.stderr.write(`  ${c.name} ÷ ${c.baselineOf}: ${(r.medianMs / against.medianMs).toFixed(1)}× the time, ${row.baseline.rssRatio ? `${row.baseline.rssRatio.toFixed(1)}×` : '-'} the peak RSS\n`);
      }
      if (v) {
        row.vs = v;
        if (v.detail) process.stderr.write(`  vs: ${v.detail}\n`);
        row.vsRatio = v.medianMs && r.medianMs ? v.medianMs / r.medianMs : undefined;
        row.vsCpuRatio = v.cpuMedianMs && r.cpuMedianMs ? v.cpuMedianMs / r.cpuMedianMs : undefined;
      }
      process.stderr.write(` ${r.status === 'ok' ? fmtTime(r.medianMs) : r.status}\n`);
      if (r.detail) process.stderr.write(`  ${r.detail}\n`);
      results.push(row);
    }

    /** @param {any} r */
    const status = (r) => (r.status === 'ok' ? fmtTime(r.medianMs) : r.status);
    const head = ['case', 'runs', 'median', 'CPU', 'peak RSS', 'output', 'node -e 0', '× node -e 0', 'CPU × node', '× baseline (time, RSS)'];
    if (argv.vs) head.push('vs: median', 'vs: CPU', 'vs: peak RSS', 'vs ÷ fwgen', 'vs CPU ÷ fwgen CPU');
    const rows = [head];
    for (const r of /** @type {any[]} */ (results)) {
      const ratio = r.baseline ? `${r.baseline.timeRatio.toFixed(1)}×, ${r.baseline.rssRatio ? `${r.baseline.rssRatio.toFixed(1)}×` : '-'} (${r.baseline.case})` : '-';
      const row = [r.case, String(r.runs), status(r), fmtTime(r.cpuMedianMs), fmtMb(r.peakRssMb), fmtBytes(r.outputBytes), fmtTime(r.nodeMs), r.vsNode ? `${r.vsNode.toFixed(1)}×` : '-', r.cpuVsNode ? `${r.cpuVsNode.toFixed(1)}×` : '-', ratio];
      if (argv.vs) row.push(r.vs ? status(r.vs) : '-', r.vs ? fmtTime(r.vs.cpuMedianMs) : '-', r.vs ? fmtMb(r.vs.peakRssMb) : '-', r.vsRatio ? `${r.vsRatio.toFixed(2)}×` : '-', r.vsCpuRatio ? `${r.vsCpuRatio.toFixed(2)}×` : '-');
      rows.push(row);
    }
    const cpus = os.cpus();
    const machine = {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      date: new Date().toISOString(),
    };
    process.stdout.write(
      `\nfwgen bench, ${machine.date.slice(0, 10)}: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, node ${machine.node}, ` +
        `load ${machine.loadAverage.join(' ')}; node -e 0 = ${fmtTime(baseline.medianMs)} (and in turns with each case: its column); time cap ${argv.timeout} s\n\n` +
        (argv.markdown ? markdownTable(rows) : table(rows)),
    );
    if (argv.json) {
      fs.writeFileSync(argv.json, JSON.stringify({ machine, timeoutSeconds: argv.timeout, vs: vsCommand ?? null, baseline, results }, null, 2) + '\n');
      process.stderr.write(`wrote ${argv.json}\n`);
    }
    if (argv.keep) process.stderr.write(`workloads kept in ${tmp}\n`);
    return results.some((r) => r.status === 'failed') ? 1 : 0;
  } finally {
    if (!argv.keep) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
