/**
 * The one way fwgen touches files in folders a pull request can fill (the output folder, the
 * catalog, the sites): paths confined to the folder fwgen works in, links never followed
 * where fwgen writes or deletes, files created exclusively, and the words for what went wrong.
 */
export { isInside, isOwnRelative, isWithin, LinkGuard, resolvesInside } from './confine';
export { isDead, removeDeadTemps, type Holder } from './dead-runs';
export { describeCode, fileSystemError, linkRefused, UnsafePathError } from './errors';
export { trackedByGit, type TrackedAnswer } from './git-tracked';
export { createNew, makeFolder, makeFoldersBelow, openNew, readOwnFile, removeOwnTemp, replaceFile, tempFor, writeText, type Leftover } from './write';
