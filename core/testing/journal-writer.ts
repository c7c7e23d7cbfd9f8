// A process that writes entries to its trade log and is killed (a test fixture, core/log/journal-survives-kill):
// `journal-writer DIR SEED` opens the log in DIR with the peer key from SEED (hex), reads lines from stdin, appends
// each as one entry and prints `journaled N` once the append resolved (the entry is in the journal; the block that
// will hold it may not be written yet).
import { createInterface } from 'node:readline'
import { createPeerKey } from '../log/peer-key.js'
import { TradeLogs } from '../log/trade-logs.js'

const [dir, seed] = process.argv.slice(2)
if (!dir || !seed) throw new Error('usage: journal-writer DIR SEED')
const logs = new TradeLogs(dir, createPeerKey(Buffer.from(seed, 'hex')), 0)
await logs.open()
logs.subscribe(() => {})
let n = 0
console.log('ready')
for await (const line of createInterface({ input: process.stdin })) {
  await logs.append([Buffer.from(line)])
  console.log(`journaled ${++n}`)
}
