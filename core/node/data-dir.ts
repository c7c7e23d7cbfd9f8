// Where the app keeps its data (settings, trade logs) unless --data-dir says otherwise, in Electron and headless.
import { homedir } from 'node:os'
import { join } from 'node:path'

export function defaultDataDir(): string {
  return join(homedir(), '.offchain-channels')
}
