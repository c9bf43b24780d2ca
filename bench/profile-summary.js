#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * node bench/profile-summary.js FILE.cpuprofile [--top N]
 *
 * Summarises a V8 CPU profile (node --cpu-prof): the functions with the most self time, and
 * for each the call paths that reach it, shortened to fwgen's own frames (dist/ and src/), so
 * that the summary says which of fwgen's functions the time is spent under.
 */
const fs = require('node:fs');
const path = require('node:path');

/**
 * @typedef {{ functionName: string, url: string, lineNumber: number }} CallFrame
 * @typedef {{ id: number, callFrame: CallFrame, hitCount?: number, children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], startTime: number, endTime: number, samples?: number[] }} Profile
 */

const root = path.resolve(__dirname, '..');

/** @param {CallFrame} f */
function label(f) {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const file = f.url.replace(/^file:\/\//, '');
  const where = file.startsWith(root) ? path.relative(root, file) : file.includes('/node_modules/') ? file.slice(file.lastIndexOf('/node_modules/') + 14) : path.basename(file);
  return `${name} ${where}:${f.lineNumber + 1}`;
}

/** @param {CallFrame} f */
const ownFrame = (f) => /\/(dist|src)\//.test(f.url) && !f.url.includes('/node_modules/');

/** @param {string} file @param {number} top */
function summarise(file, top) {
  /** @type {Profile} */
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const totalHits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const msPerHit = (profile.endTime - profile.startTime) / 1000 / Math.max(1, totalHits);

  /** @type {Map<string, { hits: number, paths: Map<string, number> }>} */
  const self = new Map();
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const key = label(n.callFrame);
    const entry = self.get(key) ?? { hits: 0, paths: new Map() };
    entry.hits += hits;
    // The caller chain, fwgen's frames only, innermost last.
    const chain = [];
    for (let id = parent.get(n.id); id !== undefined; id = parent.get(id)) {
      const f = /** @type {ProfileNode} */ (byId.get(id)).callFrame;
      if (ownFrame(f)) chain.unshift(f.functionName || '(anonymous)');
    }
    const collapsed = chain.filter((x, i) => x !== chain[i - 1]).slice(-6).join(' > ') || '(outside fwgen)';
    entry.paths.set(collapsed, (entry.paths.get(collapsed) ?? 0) + hits);
    self.set(key, entry);
  }
  // Inclusive time of fwgen's own functions, each sample counted once per function on its stack.
  /** @type {Map<string, number>} */
  const inclusive = new Map();
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const seen = new Set();
    for (let id = n.id; id !== undefined; id = parent.get(id)) {
      const f = /** @type {ProfileNode} */ (byId.get(id)).callFrame;
      if (ownFrame(f)) seen.add(label(f));
    }
    for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + hits);
  }
  const pct = (/** @type {number} */ h) => `${((100 * h) / totalHits).toFixed(1)}%`;
  const lines = [`${path.basename(file)}: ${(totalHits * msPerHit / 1000).toFixed(2)} s sampled`, '', 'self time  function'];
  const ranked = [...self.entries()].sort((a, b) => b[1].hits - a[1].hits).slice(0, top);
  for (const [name, e] of ranked) {
    lines.push(`${pct(e.hits).padStart(6)} ${(e.hits * msPerHit).toFixed(0).padStart(6)} ms  ${name}`);
    const paths = [...e.paths.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
    for (const [p, h] of paths) lines.push(`${''.padStart(18)}${pct(h).padStart(6)} via ${p}`);
  }
  lines.push('', 'total time  fwgen function (itself and what it calls)');
  for (const [name, h] of [...inclusive.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`${pct(h).padStart(6)} ${(h * msPerHit).toFixed(0).padStart(6)} ms  ${name}`);
  }
  return lines.join('\n') + '\n';
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 15;
if (args.length !== 1 || !Number.isInteger(top) || top < 1) {
  process.stderr.write('usage: node bench/profile-summary.js FILE.cpuprofile [--top N]\n');
  process.exitCode = 1;
} else {
  process.stdout.write(summarise(args[0], top));
}
