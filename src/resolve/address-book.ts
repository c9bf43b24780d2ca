import * as fs from 'node:fs';
import type { Profile } from '../catalog/profile';
import type { Catalog } from '../catalog/types';
import { InputError, sortIssues, type LocatedIssue } from '../errors';
import { buildPolicy, reviewPolicy } from '../policy/build';
import { emptyAddressBook, type AddressBook, type Policy } from '../policy/types';
import { lockPathFor, readLock } from './lock';
import { append } from '../util/append';

/** The addresses rendering may use for a profile: its lock file, or none. Never DNS. */
export function addressBookFor(profileFile: string): AddressBook {
  const lockFile = lockPathFor(profileFile);
  if (!fs.existsSync(lockFile)) return emptyAddressBook;
  return readLock(lockFile).book;
}

/**
 * A site's policy with its lock, every problem at once: a lock that cannot be read is
 * reported together with what the profile and the policy get wrong, not instead of it. Its
 * names then count as unresolved, so the broken lock is not said again once per name.
 * `refuseLockOuts: false` builds a policy whose lock-outs the profile has yet to answer (the
 * base side of a diff: what was approved is compared, not refused again).
 */
export function buildSitePolicy(
  catalog: Catalog,
  profile: Profile,
  profileFile: string,
  allowUnresolved = false,
  refuseLockOuts = true,
): { policy: Policy; book: AddressBook } {
  let book = emptyAddressBook;
  const lockIssues: LocatedIssue[] = [];
  try {
    book = addressBookFor(profileFile);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    append(lockIssues, err.issues);
  }
  let policy: Policy;
  try {
    const unresolvedOk = allowUnresolved || lockIssues.length > 0;
    policy = refuseLockOuts ? buildPolicy(catalog, profile, book, unresolvedOk) : reviewPolicy(catalog, profile, book, unresolvedOk).policy;
  } catch (err) {
    if (err instanceof InputError && lockIssues.length > 0) throw new InputError(sortIssues([...lockIssues, ...err.issues]));
    throw err;
  }
  if (lockIssues.length > 0) throw new InputError(lockIssues);
  return { policy, book };
}
