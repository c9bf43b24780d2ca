import { Diagnostics } from './diagnostics';
import type { OutputFile, Target, TargetPart } from './types';

/**
 * A target that also writes the files of its parts: one folder, one id in diagnostics and
 * headers, the options of the target itself. Each part stays its own module with its own
 * build and its own scopes; the registry says which target carries which part. A file's
 * `part` says whose scope it holds, so each view is handed only files of its own.
 */
export function withParts<O, V, S, P>(host: Target<O, V, S>, parts: Array<TargetPart<V, P>>): Target<O, V, S | P> {
  return {
    ...host,
    apply: [host.apply, ...parts.map((p) => p.apply)].join('; '),
    files(policy, o) {
      const files: Array<OutputFile<S | P>> = host.files(policy, o);
      const taken = new Set(files.map((f) => f.path));
      for (const part of parts) {
        for (const f of part.files(policy)) {
          if (taken.has(f.path)) throw new Error(`internal: ${part.id} and ${host.id} both write ${f.path}`);
          taken.add(f.path);
          files.push({ ...f, part: part.id });
        }
      }
      return files;
    },
    check(policy, o) {
      // One list, deduplicated as one target's: a part speaks under the target's name.
      const diags = new Diagnostics(host.id);
      diags.addAll(host.check(policy, o));
      for (const part of parts) diags.addAll(part.check(policy).map((d) => ({ ...d, target: host.id })));
      return diags.list();
    },
    view(policy, o, file) {
      const part = parts.find((p) => p.id === file.part);
      // files() set `part` on exactly the files a part made, with that part's scope.
      return part ? part.view(policy, file as OutputFile<P>) : host.view(policy, o, file as OutputFile<S>);
    },
  };
}
