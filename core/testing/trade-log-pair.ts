// Test support: two trade logs on disk, the second following the first, replicating over an in-process stream.
import type { PeerKeyPair } from '../log/peer-key.js'
import { TradeLogs } from '../log/trade-logs.js'

/** Member 0 writes, member 1 follows it; both opened. `log` gets both logs' lines. */
export async function followingPair(dirs: readonly string[], keys: readonly PeerKeyPair[], log?: (line: string) => void): Promise<{ writer: TradeLogs; reader: TradeLogs }> {
  const writer = new TradeLogs(dirs[0]!, keys[0]!, 0, log)
  const reader = new TradeLogs(dirs[1]!, keys[1]!, 1, log)
  await writer.open()
  await reader.open()
  await reader.follow(0, keys[0]!.publicKey)
  const a = writer.store.replicate(true)
  const b = reader.store.replicate(false)
  a.pipe(b).pipe(a)
  a.on('error', () => {})
  b.on('error', () => {})
  return { writer, reader }
}
