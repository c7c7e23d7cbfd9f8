// Where the app keeps its data (settings, trade logs) unless --data-dir says otherwise, in Electron and headless,
// and how a data directory is made: owner-only (0700), since it holds the vault, settings and peer keys.
import { chmodSync, mkdirSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export function defaultDataDir(): string {
  return join(homedir(), '.offchain-channels')
}

/**
 * Creates `dir` (and any missing parents) with mode 0700; an existing one that others may read or enter (made by
 * an earlier version, with the default umask) is tightened to 0700.
 */
export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (process.platform === 'win32') return // no POSIX modes there
  const { mode, uid } = statSync(dir)
  if ((mode & 0o077) !== 0 && uid === process.getuid?.()) chmodSync(dir, 0o700)
}
