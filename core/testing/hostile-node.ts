// Test support: a headless node process that misbehaves on purpose. Takes the `node` command's flags plus
// `--byzantine NAME`: a conduct from byzantine.ts (omit, inflate, reorder, false-challenge), or `garbage` (writes
// undecodable entries into its own log every half second, beside its honest ones).
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { nodeCommandOptions, runNodeCommand, type NodeInjection } from '../cli/node-command.js'
import type { Transport } from '../consensus/transport.js'
import { errorMessage } from '../util/error-message.js'
import { BYZANTINE, byzantineConduct } from './byzantine.js'

export const HOSTILE_NODE = fileURLToPath(import.meta.url)

/** The transport of a member that also writes junk into its own log while it is subscribed. */
function withGarbage(logs: Transport): Transport {
  return {
    append: (entries) => logs.append(entries),
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

function injection(name: string | undefined): NodeInjection {
  if (name === 'garbage') return { wrapTransport: withGarbage }
  const b = name === undefined ? undefined : BYZANTINE[name]
  if (!b) throw new Error(`unknown --byzantine ${String(name)}: one of garbage, ${Object.keys(BYZANTINE).join(', ')}`)
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
