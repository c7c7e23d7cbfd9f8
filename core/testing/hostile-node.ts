// Test support: a headless node process that misbehaves on purpose. Takes the `node` command's flags plus
// `--byzantine NAME`: a conduct from byzantine.ts (omit, inflate, reorder, false-challenge), `garbage` (writes
// undecodable entries into its own log every half second, beside its honest ones) or `flood` (once, a few seconds
// after it starts: FLOOD_ENTRIES countersigns dated a million epochs ahead and as many undecodable entries).
import { randomBytes } from 'node:crypto'
import { encodeEntry } from '../protocol/entries.js'
import { randomTransferId } from '../protocol/signatures.js'
import type { Hex } from '../protocol/types.js'
import { fileURLToPath } from 'node:url'
import { nodeCommandOptions, runNodeCommand, type NodeInjection } from '../cli/node-command.js'
import type { Transport } from '../consensus/transport.js'
import { errorMessage } from '../util/error-message.js'
import { BYZANTINE, byzantineConduct } from './byzantine.js'

export const HOSTILE_NODE = fileURLToPath(import.meta.url)

/** The transport of a member that also writes junk into its own log while it is subscribed. */
function withGarbage(logs: Transport): Transport {
  return {
    append: (entries, recipients, soon) => logs.append(entries, recipients, soon),
    subscribe(handler) {
      const junk = setInterval(() => {
        void logs.append(Array.from({ length: 5 }, (_, i) => randomBytes(1 + ((i * 37) % 200)))).catch(() => {})
      }, 500)
      const unsubscribe = logs.subscribe(handler)
      return () => {
        clearInterval(junk)
        unsubscribe()
      }
    },
  }
}

/** How many far-future entries, and how many undecodable ones, a `flood` node writes. */
export const FLOOD_ENTRIES = 20_000
/** A `flood` node starts this long after it subscribes (the test measures the others' memory before). */
export const FLOOD_AFTER_MS = 8000

const randomHex = (bytes: number): Hex => `0x${randomBytes(bytes).toString('hex')}`

/** The transport of a member that floods its own log once, in batches of a thousand. */
function withFlood(logs: Transport): Transport {
  const flood = async (): Promise<void> => {
    for (let done = 0; done < FLOOD_ENTRIES; done += 500) {
      const ahead = Array.from({ length: 500 }, () =>
        encodeEntry({
          type: 'countersign',
          transfer: { id: randomTransferId(), epoch: 1_000_000n, from: randomHex(20), to: randomHex(20), amount: 1n },
          senderSig: randomHex(65),
          receiverSig: randomHex(65),
        }),
      )
      await logs.append([...ahead, ...Array.from({ length: 500 }, () => randomBytes(200))])
    }
    console.error(`flooded: ${FLOOD_ENTRIES} entries far ahead, ${FLOOD_ENTRIES} undecodable`)
  }
  return {
    append: (entries, recipients, soon) => logs.append(entries, recipients, soon),
    subscribe(handler) {
      const timer = setTimeout(() => void flood().catch(() => {}), FLOOD_AFTER_MS)
      const unsubscribe = logs.subscribe(handler)
      return () => {
        clearTimeout(timer)
        unsubscribe()
      }
    },
  }
}

function injection(name: string | undefined): NodeInjection {
  if (name === 'garbage') return { wrapTransport: withGarbage }
  if (name === 'flood') return { wrapTransport: withFlood }
  const b = name === undefined ? undefined : BYZANTINE[name]
  if (!b) throw new Error(`unknown --byzantine ${String(name)}: one of garbage, flood, ${Object.keys(BYZANTINE).join(', ')}`)
  return { conduct: (key) => byzantineConduct(key, b) }
}

if (process.argv[1] === HOSTILE_NODE) {
  const args = process.argv.slice(2)
  const at = args.indexOf('--byzantine')
  const name = at < 0 ? undefined : args.splice(at, 2)[1]
  runNodeCommand(nodeCommandOptions(args, 'hostile-node.ts --byzantine NAME <node flags>'), injection(name)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`error: ${errorMessage(err)}`)
      process.exit(1)
    },
  )
}
