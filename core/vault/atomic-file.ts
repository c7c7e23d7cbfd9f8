// A file replaced whole or not at all: written beside it, flushed to disk, then renamed over it. A crash leaves
// the old file or the new one, never half of either. Used for the vault file and the app's settings.
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs'

export function writeFileAtomic(path: string, text: string, mode = 0o666): void {
  const tmp = `${path}.tmp`
  writeFileSync(tmp, text, { mode })
  const fd = openSync(tmp, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}
