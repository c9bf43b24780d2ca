import type Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { LocatedIssue } from '../errors';
import { schemaDir } from '../util/paths';
import { NAME_PATTERN, nameProblem } from './name-rule';
import type { YamlSource } from './yaml-source';

export type SchemaName = 'vendor' | 'device-classes' | 'list' | 'profile' | 'lock' | 'workspace' | 'policy';
export const SCHEMA_NAMES: SchemaName[] = ['vendor', 'device-classes', 'list', 'profile', 'lock', 'workspace', 'policy'];
export const AJV_OPTIONS = { allErrors: true, strict: true, strictRequired: false, strictTypes: false, allowUnionTypes: true } as const;

/** Where the build puts the validators it compiled ahead (see schema-precompile.ts). */
export const PRECOMPILED_DIR = path.join(__dirname, 'validators');

let ajv: Ajv | undefined;
const compiled = new Map<SchemaName, ValidateFunction>();

export function schemaDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The validator the build compiled for this very schema text, if there is one: compiling
 * the schemas takes longer than rendering a site. A schema changed since the build has
 * another digest and is compiled here instead.
 */
export function precompiled(name: SchemaName, text: string, dir = PRECOMPILED_DIR): ValidateFunction | undefined {
  const file = path.join(dir, `${name}.js`);
  if (!fs.existsSync(file)) return undefined;
  const mod = require(file) as { digest?: string; default?: ValidateFunction };
  return mod.digest === schemaDigest(text) ? mod.default : undefined;
}

/** Each schema is compiled the first time a file of its kind is validated. */
function validator(name: SchemaName): ValidateFunction {
  let validate = compiled.get(name);
  if (validate) return validate;
  const text = fs.readFileSync(path.join(schemaDir, `${name}.schema.json`), 'utf8');
  validate = precompiled(name, text);
  if (!validate) {
    // ajv itself loads only here: it takes longer to load than the precompiled validators run.
    ajv ??= new (require('ajv') as typeof import('ajv')).default(AJV_OPTIONS);
    validate = ajv.compile(JSON.parse(text));
  }
  compiled.set(name, validate);
  return validate;
}

/** Whether data fits a schema; a file that does not is read again with positions to say where. */
export function schemaAccepts(schema: SchemaName, data: unknown): boolean {
  return validator(schema)(data) === true;
}

/** Validates a parsed file against one of the project's JSON Schemas; issues carry positions. */
export function validateAgainst(schema: SchemaName, source: YamlSource): LocatedIssue[] {
  const validate = validator(schema);
  if (validate(source.data)) return [];
  return explainErrors(validate.errors ?? [], source);
}

function pointerToPath(pointer: string): Array<string | number> {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function valueAt(data: unknown, path: Array<string | number>): unknown {
  let v: unknown = data;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/**
 * Turns ajv's errors into one readable message per place. anyOf failures list every
 * branch; the branch whose type matched the value says what is actually wrong.
 */
function explainErrors(errors: ErrorObject[], source: YamlSource): LocatedIssue[] {
  const byPlace = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    const key = e.instancePath;
    if (!byPlace.has(key)) byPlace.set(key, []);
    byPlace.get(key)!.push(e);
  }
  const issues: LocatedIssue[] = [];
  for (const [pointer, errs] of byPlace) {
    const path = pointerToPath(pointer);
    const value = valueAt(source.data, path);
    const anyOf = errs.find((e) => e.keyword === 'anyOf');
    let chosen = errs.filter((e) => e.keyword !== 'anyOf');
    if (anyOf) {
      const specific = chosen.filter((e) => e.keyword !== 'type');
      chosen = specific.length > 0 ? specific.slice(0, 1) : [anyOf];
    }
    const seen = new Set<string>();
    for (const e of chosen) {
      const { message, field } = describe(e, value);
      const fullPath = field === undefined ? path : [...path, field];
      const text = `${message}`;
      const dedupe = `${fullPath.join('.')}|${text}`;
      if (seen.has(dedupe)) continue;
      seen.add(dedupe);
      issues.push(source.issue(fullPath, text, field !== undefined && e.keyword === 'additionalProperties'));
    }
  }
  return issues;
}

function show(value: unknown): string {
  return JSON.stringify(value);
}

function describe(e: ErrorObject, value: unknown): { message: string; field?: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { message: `unknown field '${String(p.additionalProperty)}'`, field: String(p.additionalProperty) };
    case 'required':
      return { message: `missing required field '${String(p.missingProperty)}'` };
    case 'enum':
      return { message: `${show(value)} is not one of: ${(p.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'const':
      return { message: `must be ${show(p.allowedValue)}` };
    case 'maximum':
      return { message: `${show(value)} is above the maximum ${String(p.limit)}` };
    case 'minimum':
      return { message: `${show(value)} is below the minimum ${String(p.limit)}` };
    case 'pattern': {
      // A name field's pattern is the name rule: say what is wrong rather than print the rule.
      const problem = p.pattern === NAME_PATTERN && typeof value === 'string' ? nameProblem(value) : undefined;
      if (problem) return { message: `the name ${show(value)} ${problem}` };
      return { message: `${show(value)} does not match the pattern ${String(p.pattern)}` };
    }
    case 'propertyNames':
      return { message: `key ${show(p.propertyName)} is not a valid name` };
    case 'type':
      return { message: `${show(value)} must be of type ${String(p.type)}` };
    case 'minItems':
      return { message: `must have at least ${String(p.limit)} item(s)` };
    case 'minProperties':
      return { message: `must have at least ${String(p.limit)} entr${p.limit === 1 ? 'y' : 'ies'}` };
    case 'uniqueItems':
      return { message: `items ${String(p.j)} and ${String(p.i)} are the same` };
    case 'maxLength':
      return { message: `is longer than ${String(p.limit)} characters` };
    case 'minLength':
      return { message: `must not be empty` };
    case 'anyOf':
      return { message: `${show(value)} is not a valid value here` };
    default:
      return { message: e.message ?? e.keyword };
  }
}
