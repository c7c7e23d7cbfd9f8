// The core benchmark's members in worker threads (one each), over an in-memory hub in the main thread that plays
// the logs: what 4 members on their own cores reach, where the one-process run shares a single thread.
import { Worker } from 'node:worker_threads'
import type { Timing } from '../consensus/participant.js'
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
  private readonly logs: Uint8Array[][] = []
  private readonly subscribed = new Set<number>()
  private pending: Array<[number, number, Uint8Array]> = []
  private flushQueued = false
  readonly epochs: bigint[] = []
  private readonly waiting = new Map<number, (ok: boolean) => void>()
  private nextId = 0

  private constructor(private readonly workers: Worker[]) {}

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

  private onMessage(author: number, m: FromWorker): void {
    switch (m.type) {
      case 'append': {
        const log = (this.logs[author] ??= [])
        for (const entry of m.entries) {
          this.pending.push([author, log.length, entry])
          log.push(entry)
        }
        if (!this.flushQueued) {
          this.flushQueued = true
          setImmediate(() => this.flush())
        }
        return
      }
      case 'subscribe': {
        // The whole history first (own log first, as a restarted node reads it), then everything live.
        const order = [author, ...this.logs.keys()].filter((a, i, all) => all.indexOf(a) === i)
        const items = order.flatMap((a) => (this.logs[a] ?? []).map((e, p): [number, number, Uint8Array] => [a, p, e]))
        this.workers[author]!.postMessage({ type: 'deliver', items })
        this.subscribed.add(author)
        return
      }
      case 'epoch':
        this.epochs[author] = BigInt(m.epoch)
        return
      case 'sent':
      case 'failed':
        this.waiting.get(m.id)?.(m.type === 'sent')
        this.waiting.delete(m.id)
        return
    }
  }

  private flush(): void {
    this.flushQueued = false
    const items = this.pending
    this.pending = []
    for (const i of this.subscribed) this.workers[i]!.postMessage({ type: 'deliver', items })
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
