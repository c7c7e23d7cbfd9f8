// The core benchmark's members in worker threads (one each), exchanging their logs directly (see member-worker.ts):
// what 4 members on their own cores reach, where the one-process run shares a single thread.
import { randomUUID } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import type { Timing } from '../consensus/participant.js'
import type { Hex } from '../protocol/types.js'
import type { FromMember, MemberData, ToMember } from './member-worker.js'

export interface LoadResult {
  transfersPerSecond: number
  /** Request-to-receipt times in ms, sorted. */
  latencies: number[]
}

export class ThreadedMembers {
  readonly epochs: bigint[] = []
  /** The leader of the latest epoch a member reported. */
  private currentLeader = 0

  private constructor(private readonly workers: Worker[]) {}

  static async start(o: { rpcUrl: string; chainId: bigint; channel: string; keys: Hex[]; timing: Timing }): Promise<ThreadedMembers> {
    const busName = `members-${randomUUID()}`
    const workers = o.keys.map((key, index) => {
      const data: MemberData = {
        rpcUrl: o.rpcUrl,
        chainId: o.chainId.toString(),
        channel: o.channel,
        key,
        index,
        members: o.keys.length,
        timing: o.timing,
        busName,
      }
      return new Worker(new URL('./member-worker-entry.mjs', import.meta.url), { workerData: data })
    })
    const hub = new ThreadedMembers(workers)
    const ready = workers.map((w, i) => {
      hub.epochs[i] = 0n
      w.on('message', (m: FromMember) => {
        if (m.type !== 'epoch') return
        hub.epochs[i] = BigInt(m.epoch)
        hub.currentLeader = m.leader
      })
      return new Promise<void>((resolve, reject) => {
        w.on('message', (m: FromMember) => m.type === 'ready' && resolve())
        w.on('error', (err) => reject(new Error(`member ${i}: ${err.message}`)))
      })
    })
    await Promise.all(ready)
    return hub
  }

  private post(member: number, m: ToMember): void {
    this.workers[member]!.postMessage(m)
  }

  closeEpochNow(member: number): void {
    this.post(member, { type: 'close-epoch' })
  }

  /** Every member pays `total / members` payments of 1 wei to the others in turn, `window` in flight each. */
  async load(total: number, window: number): Promise<LoadResult> {
    const n = this.workers.length
    const start = performance.now()
    const results = await Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<Extract<FromMember, { type: 'loaded' }>>((resolve) => {
            const onMessage = (m: FromMember): void => {
              if (m.type !== 'loaded') return
              w.off('message', onMessage)
              resolve(m)
            }
            w.on('message', onMessage)
            this.post(i, { type: 'load', count: Math.ceil(total / n), window, lowerPriority: i !== this.currentLeader })
          }),
      ),
    )
    const seconds = (performance.now() - start) / 1000
    const receipted = results.reduce((s, r) => s + r.receipted, 0)
    return { transfersPerSecond: receipted / seconds, latencies: results.flatMap((r) => r.latencies).sort((a, b) => a - b) }
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
