// A file replaced whole or not at all: written beside it, flushed to disk, then renamed over it. A crash leaves
// the old file or the new one, never half of either. Used for the vault file and the app's settings.
// The temporary file gets a random name and is created exclusively (O_EXCL) with mode 0600: nothing planted at
// that name beforehand (a file, a symlink to elsewhere) is written through, and no one else can read it meanwhile.
import { randomBytes } from 'node:crypto'
import { closeSync, constants, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/** Creates `path`, which must not exist (not even as a dangling symlink), owner-only, with `text`, flushed. */
export function writeNewFile(path: string, text: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
  try {
    writeFileSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Replaces `path` with `text` atomically; the file ends owner-only (0600). */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    writeNewFile(tmp, text)
    renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
  syncDirectory(dirname(path))
}

/** Flushes the rename itself (POSIX: a directory's entries are flushed through the directory). */
function syncDirectory(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Not every platform opens or syncs a directory (Windows); the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
