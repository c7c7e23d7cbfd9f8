// The core's own process (Electron utilityProcess): AppCore behind the parent port. Signature work and storage
// never run in the window's or main's thread; if this process dies, main starts it again and it resumes from its
// data directory (keys in the keychain, logs on disk).
import { AppCore } from '../../core/node/app-core.js'
import { dispatch } from '../../core/node/api-dispatch.js'
import { sandbox } from '../../core/node/sandbox-network.js'
import { logUnhandledRejections } from '../../core/util/unhandled-rejections.js'

interface ParentPort {
  on(event: 'message', listener: (message: { data: unknown }) => void): void
  postMessage(message: unknown): void
}

const port = (process as unknown as { parentPort?: ParentPort }).parentPort
if (!port) throw new Error('core-host runs inside Electron\'s utilityProcess')
const at = process.argv.indexOf('--data-dir')
const dataDir = at > 0 ? process.argv[at + 1] : undefined
if (!dataDir) throw new Error('core-host needs --data-dir')

const log = (line: string): void => console.log(line)
logUnhandledRejections(log)
const box = sandbox(undefined, log)
const core = await AppCore.start({ dataDir, sandbox: () => box.network(), log })
core.on('event', (event) => port.postMessage({ event }))
port.on('message', ({ data }) => {
  const msg = data as { id?: unknown; method?: unknown; args?: unknown }
  if (typeof msg !== 'object' || msg === null || typeof msg.id !== 'number') return
  void dispatch(core, msg.method, msg.args).then((reply) => port.postMessage({ id: msg.id, ...reply }))
})
port.postMessage({ ready: true })
const shutdown = (): void => {
  void core.close().then(() => box.stop()).finally(() => process.exit(0))
}
process.once('SIGTERM', shutdown)
process.once('SIGINT', shutdown)
