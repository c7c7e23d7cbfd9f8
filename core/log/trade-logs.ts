// Every member's trade log as a Hypercore in one Corestore under the node's data directory. A member's log is
// signed by its peer key: our own is writable, every other member's is found from the peer key registered on
// chain (the same manifest Corestore derives for a key pair). Implements the consensus Transport: appends are
// batched per tick; every log is read in order, our own stored entries first, then all of them live.
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import type { Readable } from 'node:stream'
import type { EntryHandler, Transport } from '../consensus/transport.js'
import type { PeerKeyPair } from './peer-key.js'

const MANIFEST_VERSION = 1

export class TradeLogs implements Transport {
  readonly store: Corestore
  private own: Hypercore | undefined
  private readonly cores = new Map<number, Hypercore>()
  private readonly streams: Readable[] = []
  private handler: EntryHandler | undefined
  private batch: Buffer[] = []
  private flushing: Promise<void> | undefined
  private written: Promise<void> = Promise.resolve()
  private closed = false

  constructor(
    directory: string,
    private readonly keyPair: PeerKeyPair,
    private readonly me: number,
  ) {
    this.store = new Corestore(directory)
  }

  async open(): Promise<void> {
    await this.store.ready()
    this.own = this.store.get({ keyPair: this.keyPair })
    await this.own.ready()
    this.cores.set(this.me, this.own)
  }

  /** Length of our own log. */
  get length(): number {
    return this.own?.length ?? 0
  }

  /** Starts following member `index`'s log (members from the chain, joiners as they come). */
  async follow(index: number, peerKey: Buffer): Promise<void> {
    if (this.cores.has(index) || this.closed) return
    const core = this.store.get({ manifest: { version: MANIFEST_VERSION, signers: [{ publicKey: peerKey }] } })
    this.cores.set(index, core)
    await core.ready()
    // Fetch every block as soon as a peer announces it, rather than one request at a time as the reader asks.
    core.download({ start: 0, end: -1 })
    if (this.handler) this.tail(index, core, 0)
  }

  append(entries: readonly Uint8Array[]): Promise<void> {
    for (const e of entries) this.batch.push(Buffer.from(e.buffer, e.byteOffset, e.byteLength))
    // Everything appended in this tick goes to disk as one Hypercore batch, after the batch before it.
    if (!this.flushing) {
      this.flushing = this.written.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(() => this.flush())
      this.written = this.flushing.catch(() => {})
    }
    return this.flushing
  }

  private async flush(): Promise<void> {
    const blocks = this.batch
    this.batch = []
    this.flushing = undefined
    if (!this.own) throw new Error('trade log not open')
    if (blocks.length > 0) await this.own.append(blocks)
  }

  subscribe(handler: EntryHandler): () => void {
    this.handler = handler
    void this.start(handler)
    return () => {
      this.handler = undefined
      for (const s of this.streams) s.destroy()
    }
  }

  private async start(handler: EntryHandler): Promise<void> {
    const own = this.own
    if (!own) throw new Error('trade log not open')
    // Our own stored entries first: a restarted member learns what it said before hearing anyone.
    const stored = own.length
    for (let i = 0; i < stored; i++) {
      const block = await own.get(i)
      if (block) handler(this.me, i, block)
    }
    this.tail(this.me, own, stored)
    for (const [index, core] of this.cores) if (index !== this.me) this.tail(index, core, 0)
  }

  private tail(index: number, core: Hypercore, start: number): void {
    const stream = core.createReadStream({ start, live: true })
    let position = start
    stream.on('data', (block: Buffer) => this.handler?.(index, position++, block))
    stream.on('error', () => {}) // a closed store ends its streams; nothing to report
    this.streams.push(stream)
  }

  async close(): Promise<void> {
    this.closed = true
    for (const s of this.streams) s.destroy()
    await this.flushing?.catch(() => {})
    await this.store.close()
  }
}
