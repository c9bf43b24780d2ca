import { escapeUnsafe } from './util/unsafe-chars';
import { append } from './util/append';

/** A place in an input file, 1-based, as editors and compilers print it. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** One problem with an input: where, which field, what. */
export interface LocatedIssue {
  loc: SourceLocation;
  field: string;
  message: string;
}

export function formatLocation(loc: SourceLocation): string {
  return escapeUnsafe(`${loc.file}:${loc.line}:${loc.col}`);
}

export function formatIssue(issue: LocatedIssue): string {
  const field = issue.field === '' ? '(document)' : issue.field;
  return `${formatLocation(issue.loc)}: ${escapeUnsafe(field)}: ${escapeUnsafe(issue.message)}`;
}

/** Bad input. Carries every problem found, so a user fixes them in one pass. */
export class InputError extends Error {
  readonly issues: LocatedIssue[];

  constructor(issues: LocatedIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'InputError';
    this.issues = issues;
  }
}

/** A file that could not be read at all (missing, unreadable): no position to give. */
export class FileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(escapeUnsafe(`${file}: ${reason}`));
    this.name = 'FileError';
  }
}

/** A command line fwgen cannot act on (an unknown option value, a missing name): said with a pointer to --help. */
export class UsageError extends Error {}

/** Dotted path for messages: services[2].flows[0].ports[1] */
export function fieldPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** Collects issues while a whole input is checked, then throws them together. */
export class IssueList {
  readonly issues: LocatedIssue[] = [];

  add(loc: SourceLocation, field: string, message: string): void {
    this.issues.push({ loc, field, message });
  }

  addAll(issues: LocatedIssue[]): void {
    append(this.issues, issues);
  }

  get empty(): boolean {
    return this.issues.length === 0;
  }

  throwIfAny(): void {
    if (this.issues.length > 0) throw new InputError(sortIssues(this.issues));
  }
}

export function sortIssues(issues: LocatedIssue[]): LocatedIssue[] {
  return [...issues].sort(
    (a, b) =>
      a.loc.file.localeCompare(b.loc.file) ||
      a.loc.line - b.loc.line ||
      a.loc.col - b.loc.col ||
      a.message.localeCompare(b.message),
  );
}
