export interface PortRange {
  from: number;
  to: number;
}

/** Sorted, overlapping and adjacent ranges merged: [80,81-90,443] stays, [80,81] → 80-81. */
export function mergePorts(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) {
      if (r.to > last.to) last.to = r.to;
    } else {
      out.push({ ...r });
    }
  }
  return out;
}

export function formatPort(r: PortRange, sep = '-'): string {
  return r.from === r.to ? String(r.from) : `${r.from}${sep}${r.to}`;
}

export function formatPorts(ranges: readonly PortRange[], sep = '-'): string {
  return ranges.map((r) => formatPort(r, sep)).join(',');
}

/** "3478-3481" or "443" or 443 → a range, or an error message. */
export function parsePort(value: string | number): PortRange | { error: string } {
  const text = String(value);
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) return { error: `${JSON.stringify(value)} is not a port or a range like 3478-3481` };
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  for (const p of [from, to]) {
    if (p < 1 || p > 65535) return { error: `port ${p} is out of range 1-65535` };
  }
  if (to < from) return { error: `range ${text} is inverted (${from} > ${to})` };
  return { from, to };
}
