// The core benchmark's members in worker threads (one each), over the in-memory bus in the main thread, each
// worker's transport relayed through its port: what 4 members on their own cores reach, where the one-process run
// shares a single thread.
import { Worker } from 'node:worker_threads'
import type { Timing } from '../consensus/participant.js'
import { MemoryBus, type Transport } from '../consensus/transport.js'
import type { Hex } from '../protocol/types.js'

export interface ThreadedRun {
  transfersPerSecond: number
  latencies: number[]
}

type FromWorker =
  | { type: 'append'; entries: Uint8Array[] }
  | { type: 'subscribe' }
  | { type: 'ready' }
  | { type: 'epoch'; epoch: string }
  | { type: 'sent' | 'failed'; id: number }

export class ThreadedMembers {
  private readonly bus = new MemoryBus()
  private readonly transports: Transport[]
  readonly epochs: bigint[] = []
  private readonly waiting = new Map<number, (ok: boolean) => void>()
  private nextId = 0

  private constructor(private readonly workers: Worker[]) {
    this.transports = workers.map((_, i) => this.bus.connect(i))
  }

  static async start(o: { rpcUrl: string; chainId: bigint; channel: string; keys: Hex[]; timing: Timing }): Promise<ThreadedMembers> {
    const workers = o.keys.map(
      (key, index) =>
        new Worker(new URL('./member-worker-entry.mjs', import.meta.url), {
          workerData: { rpcUrl: o.rpcUrl, chainId: o.chainId.toString(), channel: o.channel, key, index, timing: o.timing },
        }),
    )
    const hub = new ThreadedMembers(workers)
    const ready = workers.map((w, i) => {
      hub.epochs[i] = 0n
      w.on('message', (m: FromWorker) => hub.onMessage(i, m))
      return new Promise<void>((resolve, reject) => {
        w.on('message', (m: FromWorker) => m.type === 'ready' && resolve())
        w.on('error', (err) => reject(new Error(`member ${i}: ${err.message}`)))
      })
    })
    await Promise.all(ready)
    return hub
  }

  private onMessage(member: number, m: FromWorker): void {
    switch (m.type) {
      case 'append':
        void this.transports[member]!.append(m.entries)
        return
      case 'subscribe': {
        // What the bus delivers in one tick crosses to the worker as one message.
        let items: Array<[number, number, Uint8Array]> = []
        this.transports[member]!.subscribe((author, position, entry) => {
          if (items.length === 0) {
            setImmediate(() => {
              this.workers[member]!.postMessage({ type: 'deliver', items })
              items = []
            })
          }
          items.push([author, position, entry])
        })
        return
      }
      case 'epoch':
        this.epochs[member] = BigInt(m.epoch)
        return
      case 'sent':
      case 'failed':
        this.waiting.get(m.id)?.(m.type === 'sent')
        this.waiting.delete(m.id)
        return
    }
  }

  closeEpochNow(member: number): void {
    this.workers[member]!.postMessage({ type: 'close-epoch' })
  }

  /** Member `from` pays member `to` 1 wei; resolves with whether it was receipted. */
  send(from: number, to: number): Promise<boolean> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.waiting.set(id, resolve)
      this.workers[from]!.postMessage({ type: 'send', id, to })
    })
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
