import type { Argv } from 'yargs';
import { EXIT, type Args, type Io } from './command';
import { registryLib } from './libraries';

export function builder(y: Argv) {
  return y;
}

export function handler(_a: Args, io: Io): number {
  io.out(describeTargets());
  return EXIT.ok;
}

function describeTargets(): string {
  const lines: string[] = [];
  for (const t of registryLib.targets) {
    lines.push(`${t.id}: ${t.describe}`);
    lines.push(`  apply: ${t.apply}`);
    for (const [key, info] of Object.entries(t.options) as Array<[string, { describe: string; default: unknown }]>) {
      const def = typeof info.default === 'function' ? '(from the profile name)' : JSON.stringify(info.default);
      lines.push(`  targets.${t.id}.${key} (default ${def}): ${info.describe}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
