import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as HandlebarsModule from 'handlebars';
import { templatesDir } from '../util/paths';

type Template = HandlebarsModule.TemplateDelegate;

/**
 * How every target template is compiled, ahead by the build or at run time. Escaping happens
 * in each target's view, per format; HTML escaping here would corrupt it.
 */
export const TEMPLATE_OPTIONS = { noEscape: true, strict: true } as const;

/** Where the build puts the templates it compiled ahead (see templates-precompile.ts). */
export const PRECOMPILED_TEMPLATES_DIR = path.join(__dirname, 'compiled-templates');

export function templateDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The targets' templates, relative to the templates folder: "<target>/<file>.hbs". */
export function targetTemplates(dir = templatesDir): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'init')
    .flatMap((d) => fs.readdirSync(path.join(dir, d.name)).filter((f) => f.endsWith('.hbs')).map((f) => `${d.name}/${f}`))
    .sort();
}

/** The revision of Handlebars' compiled code (present at run time; its typings leave it out). */
export function compilerRevision(hb: typeof HandlebarsModule): number {
  return (hb as unknown as { COMPILER_REVISION: number }).COMPILER_REVISION;
}

// Only the small runtime is loaded for templates compiled ahead; the compiler, when one changed.
let runtime: typeof HandlebarsModule | undefined;
let compiler: typeof HandlebarsModule | undefined;

/**
 * The template the build compiled from this very text, if there is one: compiling the
 * templates takes longer than rendering a site. A template changed since the build has
 * another digest and is compiled at run time instead.
 */
export function precompiledTemplate(rel: string, text: string, dir = PRECOMPILED_TEMPLATES_DIR): Template | undefined {
  const file = path.join(dir, `${rel}.js`);
  if (!fs.existsSync(file)) return undefined;
  const mod = require(file) as { digest?: string; revision?: number; spec?: ReturnType<typeof HandlebarsModule.precompile> };
  if (mod.digest !== templateDigest(text) || !mod.spec) return undefined;
  runtime ??= (require('handlebars/runtime') as typeof HandlebarsModule).create();
  // A Handlebars upgraded since the build refuses code compiled by the old one: compile anew.
  if (mod.revision !== compilerRevision(runtime)) return undefined;
  return runtime.template(mod.spec);
}

/** A template compiled from its text at run time. */
export function compileTemplate(text: string): Template {
  compiler ??= (require('handlebars') as typeof HandlebarsModule).create();
  return compiler.compile(text, TEMPLATE_OPTIONS);
}

const loaded = new Map<string, Template>();

/** A target's template, loaded once per process. */
export function template(targetId: string, name: string): Template {
  const rel = `${targetId}/${name}`;
  let t = loaded.get(rel);
  if (!t) {
    const text = fs.readFileSync(path.join(templatesDir, targetId, name), 'utf8');
    t = precompiledTemplate(rel, text) ?? compileTemplate(text);
    loaded.set(rel, t);
  }
  return t;
}
