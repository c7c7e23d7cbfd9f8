// One channel member in its own thread, for the core benchmark. Each worker keeps its own replica of every
// member's log (a MemoryBus) and the members' threads exchange appended entries over one BroadcastChannel, as
// separate machines would exchange their logs: no hub thread in between. The load (payments to the other members,
// a window of them in flight) runs inside the member, so the main thread only starts and collects.
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads'
import { setPriority } from 'node:os'
import { Wallet } from 'ethers'
import { ChannelClient, chainProvider } from '../chain/index.js'
import { Participant, type Timing } from '../consensus/participant.js'
import { MemoryBus } from '../testing/memory-bus.js'
import type { Hex } from '../protocol/types.js'
import { payInWindow } from './windowed-load.js'

export interface MemberData {
  rpcUrl: string
  chainId: string
  channel: string
  key: Hex
  index: number
  members: number
  timing: Timing
  /** Name of the BroadcastChannel the members' threads share. */
  busName: string
}

export type ToMember =
  | { type: 'close-epoch' }
  /** Pay `count` payments of 1 wei, `window` in flight; `lowerPriority` for members other than the leader. */
  | { type: 'load'; count: number; window: number; lowerPriority: boolean }

export type FromMember =
  | { type: 'ready' }
  | { type: 'epoch'; epoch: string; leader: number }
  | { type: 'loaded'; receipted: number; latencies: number[] }

const data = workerData as MemberData
const port = parentPort!
const bus = new MemoryBus()
const peers = new BroadcastChannel(data.busName)
const own = bus.connect(data.index)
peers.onmessage = (m) => {
  const { author, entries } = (m as { data: { author: number; entries: Uint8Array[] } }).data
  void bus.connect(author).append(entries)
}

let outgoing: Uint8Array[] = []
function flush(): void {
  peers.postMessage({ author: data.index, entries: outgoing })
  outgoing = []
}

const provider = chainProvider('sandbox', data.rpcUrl, BigInt(data.chainId))
const participant = new Participant({
  index: data.index,
  privateKey: data.key,
  chain: ChannelClient.at(data.channel, new Wallet(data.key, provider)),
  transport: {
    append: async (entries) => {
      await own.append(entries)
      // What is appended in one tick crosses to the other threads as one message, as one Hypercore block would.
      if (outgoing.length === 0) setImmediate(flush)
      outgoing.push(...entries)
    },
    subscribe: (handler) => own.subscribe(handler),
  },
  timing: data.timing,
})
participant.on('epoch', ({ epoch, leader }) => port.postMessage({ type: 'epoch', epoch: epoch.toString(), leader } satisfies FromMember))

async function load(count: number, window: number): Promise<void> {
  let i = 0
  const latencies = await payInWindow(window, () => {
    if (i >= count) return undefined
    const to = (data.index + 1 + (i++ % (data.members - 1))) % data.members
    return () => participant.send(to, 1n)
  })
  port.postMessage({ type: 'loaded', receipted: latencies.length, latencies } satisfies FromMember)
}

port.on('message', (m: ToMember) => {
  if (m.type === 'close-epoch') participant.closeEpochNow()
  else if (m.type === 'load') {
    // The leader keeps a core to itself, as on its own machine; the other members share what is left.
    if (m.lowerPriority) setPriority(0, 10) // on Linux, 0 is this thread
    void load(m.count, m.window)
  }
})
await participant.start()
port.postMessage({ type: 'ready' } satisfies FromMember)
