// One channel member in its own thread, for the core benchmark: a Participant whose Transport is the thread's
// port to the in-memory hub of core/bench/threaded-members.ts. Commands in, outcomes and timings out.
import { parentPort, workerData } from 'node:worker_threads'
import { Wallet } from 'ethers'
import { ChannelClient, devProvider } from '../chain/index.js'
import { Participant, type Timing } from '../consensus/participant.js'
import type { EntryHandler } from '../consensus/transport.js'
import type { Hex } from '../protocol/types.js'

const data = workerData as { rpcUrl: string; chainId: string; channel: string; key: Hex; index: number; timing: Timing }
const port = parentPort!
let handler: EntryHandler | undefined

const provider = devProvider(data.rpcUrl, BigInt(data.chainId))
const participant = new Participant({
  index: data.index,
  privateKey: data.key,
  chain: ChannelClient.at(data.channel, new Wallet(data.key, provider)),
  transport: {
    append: async (entries) => port.postMessage({ type: 'append', entries }),
    subscribe: (h) => {
      handler = h
      port.postMessage({ type: 'subscribe' })
      return () => (handler = undefined)
    },
  },
  timing: data.timing,
})
participant.on('epoch', ({ epoch }) => port.postMessage({ type: 'epoch', epoch: epoch.toString() }))

port.on('message', (m: { type: string; items?: Array<[number, number, Uint8Array]>; id?: number; to?: number }) => {
  if (m.type === 'deliver') for (const [author, position, entry] of m.items!) handler?.(author, position, entry)
  else if (m.type === 'send') {
    participant.send(m.to!, 1n).then(
      () => port.postMessage({ type: 'sent', id: m.id }),
      () => port.postMessage({ type: 'failed', id: m.id }),
    )
  } else if (m.type === 'close-epoch') participant.closeEpochNow()
  else if (m.type === 'stop') void participant.stop().then(() => (provider.destroy(), port.close()))
})
await participant.start()
port.postMessage({ type: 'ready' })
