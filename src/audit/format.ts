import { escapeUnsafe } from '../util/unsafe-chars';
import type { AuditReport, Decider, FlowAudit, SpacePart } from './types';
import { append } from '../util/append';

/** Text and Markdown renderings of an audit; JSON is the report itself. */

const SHOWN = 6;
const PARTS_SHOWN = 8;

function cidrs(list: string[]): string {
  if (list.length === 0) return 'nothing';
  return list.length > SHOWN ? `${list.slice(0, SHOWN).join(' ')} and ${list.length - SHOWN} more` : list.join(' ');
}

function widthText(w: SpacePart['src'], family: 4 | 6): string {
  const all = w.widest === 0;
  if (all) return family === 4 ? 'any IPv4 address (0.0.0.0/0)' : 'any IPv6 address (::/0)';
  const n = BigInt(w.count);
  const size = n > 1_000_000n ? `about 2^${n.toString(2).length - 1}` : w.count;
  const what = w.except ? `any IPv${family} address but ${w.except.join(' ')}` : cidrs(w.cidrs);
  return `${what} (${size} address${n === 1n ? '' : 'es'}, widest /${w.widest})`;
}

export function partText(p: SpacePart): string {
  const bits = [
    `IPv${p.family} ${p.protocols.join('/')}`,
    `from ${widthText(p.src, p.family)}`,
    `to ${widthText(p.dst, p.family)}`,
    ...(p.ports === 'any' ? (p.protocols.some((x) => x === 'tcp' || x === 'udp' || x === 'any') ? ['any port'] : []) : [`port ${p.ports}`]),
    ...(p.sourcePorts ? [`from port ${p.sourcePorts}`] : []),
    ...(p.inInterfaces ? [`in on ${p.inInterfaces.join(', ')}`] : []),
    ...(p.outInterfaces ? [`out on ${p.outInterfaces.join(', ')}`] : []),
    ...(p.programs ? [`program ${p.programs.join(', ')}`] : []),
  ];
  return escapeUnsafe(bits.join(' '));
}

function deciderText(d: Decider): string {
  const what = d.byDefault ? `the default of ${d.chain} (${d.verdict})` : `${d.verdict} rule`;
  return escapeUnsafe(d.rule ? `${d.rule.file}:${d.rule.line}: ${what}: ${d.rule.text}` : what);
}

function flowTitle(f: FlowAudit): string {
  const origin = f.origins[0];
  const where = origin ? ` (${origin.file}:${origin.line}${origin.cite ? `, ${origin.cite}` : ''})` : '';
  return escapeUnsafe(`${f.vendor}/${f.service} ${f.deviceClass} ${f.direction} ${f.protocol}${f.ports === 'any' ? '' : ` ${f.ports}`}${where}`);
}

const STATUS = { met: 'met', partial: 'PARTLY', missing: 'NOT MET', unchecked: 'not checked' } as const;

export function formatAuditText(r: AuditReport): string {
  const out: string[] = [];
  const s = r.summary;
  out.push(escapeUnsafe(`audit of site ${r.site} (${r.profile}) against ${r.files.join(', ')}`));
  out.push(`flows: ${s.met} met, ${s.partial} partly met, ${s.missing} not met, ${s.unchecked} not checked; ${s.openings} opening${s.openings === 1 ? '' : 's'} beyond the profile; ${s.uncertain} rule${s.uncertain === 1 ? '' : 's'} that could not be judged`);
  for (const scope of r.scopes) {
    out.push('', escapeUnsafe(`== ${scope.scope} (${scope.format}${scope.deviceClass ? `, device class ${scope.deviceClass}` : ', every device class'})`));
    for (const n of scope.notes) out.push(escapeUnsafe(`  note: ${n}`));
    for (const f of r.flows.filter((x) => x.scope === scope.scope)) {
      out.push(`  ${STATUS[f.status]}: ${flowTitle(f)}`);
      for (const m of f.missing) out.push(`      missing: ${partText(m)}`);
      for (const b of f.blockedBy) out.push(`      stopped by ${deciderText(b)}`);
      if (f.status !== 'met') for (const a of f.admittedBy) out.push(escapeUnsafe(`      admitted in part by ${a.file}:${a.line}: ${a.text}`));
      for (const n of f.notes) out.push(escapeUnsafe(`      ${n}`));
    }
    const openings = r.openings.filter((o) => o.scope === scope.scope);
    if (openings.length) out.push('  beyond the profile:');
    for (const o of openings) {
      out.push(`    ${deciderText(o.by)}`);
      for (const p of o.parts.slice(0, PARTS_SHOWN)) out.push(`      admits ${partText(p)}`);
      if (o.parts.length > PARTS_SHOWN) out.push(`      and ${o.parts.length - PARTS_SHOWN} more parts (--format json lists them all)`);
    }
    for (const u of r.uncertain.filter((x) => x.scope === scope.scope)) {
      out.push(escapeUnsafe(`  could not judge ${u.rule.file}:${u.rule.line} (${u.verdict}): ${u.why}: ${u.rule.text}`));
    }
  }
  out.push('', r.clean ? 'result: every flow met, nothing beyond the profile' : 'result: findings (exit 2)');
  return out.join('\n') + '\n';
}

function md(text: string): string {
  return escapeUnsafe(text).replace(/[\\`*_{}[\]<>|#]/g, (c) => `\\${c}`);
}

export function formatAuditMarkdown(r: AuditReport): string {
  const out: string[] = [];
  const s = r.summary;
  out.push(`## fwgen audit: ${md(r.site)}`, '', `Against ${r.files.map((f) => `\`${escapeUnsafe(f).replace(/`/g, "'")}\``).join(', ')}.`, '');
  out.push('| met | partly met | not met | not checked | openings beyond the profile | could not judge |', '|---|---|---|---|---|---|');
  out.push(`| ${s.met} | ${s.partial} | ${s.missing} | ${s.unchecked} | ${s.openings} | ${s.uncertain} |`);
  for (const scope of r.scopes) {
    out.push('', `### ${md(scope.scope)}`, '');
    for (const n of scope.notes) out.push(`> ${md(n)}`, '');
    const flows = r.flows.filter((x) => x.scope === scope.scope);
    if (flows.length) {
      out.push('| flow | status | what is missing | stopped by |', '|---|---|---|---|');
      for (const f of flows) {
        out.push(`| ${md(flowTitle(f))} | ${STATUS[f.status]} | ${f.missing.map((m) => md(partText(m))).join('<br>') || (f.status === 'unchecked' ? md(f.notes.join('; ')) : '')} | ${f.blockedBy.map((b) => md(deciderText(b))).join('<br>')} |`);
      }
    }
    const openings = r.openings.filter((o) => o.scope === scope.scope);
    if (openings.length) {
      out.push('', '**Beyond the profile**', '');
      for (const o of openings) {
    out.push(`- ${md(deciderText(o.by))}`);
    append(out, o.parts.map((p) => `  - ${md(partText(p))}`));
  }
    }
    const unsure = r.uncertain.filter((x) => x.scope === scope.scope);
    if (unsure.length) {
      out.push('', '**Could not judge**', '');
      for (const u of unsure) out.push(`- ${md(`${u.rule.file}:${u.rule.line} (${u.verdict}): ${u.why}: ${u.rule.text}`)}`);
    }
  }
  return out.join('\n') + '\n';
}
