import * as fs from 'node:fs';
import { emptyAddressBook, type AddressBook } from '../policy/types';
import { lockPathFor, readLock } from './lock';

/** The addresses rendering may use for a profile: its lock file, or none. Never DNS. */
export function addressBookFor(profileFile: string): AddressBook {
  const lockFile = lockPathFor(profileFile);
  if (!fs.existsSync(lockFile)) return emptyAddressBook;
  return readLock(lockFile).book;
}
