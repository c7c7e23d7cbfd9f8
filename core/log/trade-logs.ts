// Every member's trade log as a Hypercore in one Corestore under the node's data directory. A member's log is
// signed by its peer key: our own is writable, every other member's is found from the peer key registered on
// chain (the same manifest Corestore derives for a key pair). Implements the consensus Transport: the entries
// appended in one tick go out as one block (see blocks.ts); every log is read in order, our own stored entries
// first, then all of them live.
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import type { Readable } from 'node:stream'
import type { EntryHandler, Transport } from '../consensus/transport.js'
import { decodeBlock, encodeBlocks } from './blocks.js'
import type { PeerKeyPair } from './peer-key.js'

const MANIFEST_VERSION = 1

export class TradeLogs implements Transport {
  readonly store: Corestore
  private own: Hypercore | undefined
  private readonly cores = new Map<number, Hypercore>()
  private readonly streams: Readable[] = []
  private handler: EntryHandler | undefined
  private batch: Uint8Array[] = []
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
    this.batch.push(...entries)
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
    if (blocks.length > 0) await this.own.append(encodeBlocks(blocks))
  }

  subscribe(handler: EntryHandler): () => void {
    this.handler = handler
    void this.start()
    return () => {
      this.handler = undefined
      for (const s of this.streams) s.destroy()
    }
  }

  private async start(): Promise<void> {
    const own = this.own
    if (!own) throw new Error('trade log not open')
    // Our own stored entries first: a restarted member learns what it said before hearing anyone. All of them in
    // one go, so a decision replayed from one block is taken knowing what the later blocks already record.
    const stored = own.length
    const position = { next: 0 }
    const blocks: Buffer[] = []
    for (let i = 0; i < stored; i++) {
      const block = await own.get(i)
      if (block) blocks.push(block)
    }
    for (const block of blocks) this.deliver(this.me, block, position)
    this.tail(this.me, own, stored, position)
    for (const [index, core] of this.cores) if (index !== this.me) this.tail(index, core, 0)
  }

  /** Hands a block's entries on, numbered across the whole log; a block that does not decode is one (bad) entry. */
  private deliver(author: number, block: Buffer, position: { next: number }): void {
    let entries: Uint8Array[]
    try {
      entries = decodeBlock(block)
    } catch {
      entries = [block]
    }
    for (const entry of entries) this.handler?.(author, position.next++, entry)
  }

  /** Reads `core` live from block `start`; `position` numbers the entries of the blocks before it. */
  private tail(index: number, core: Hypercore, start: number, position = { next: 0 }): void {
    const stream = core.createReadStream({ start, live: true })
    stream.on('data', (block: Buffer) => this.deliver(index, block, position))
    stream.on('error', () => {}) // a closed store ends its streams; nothing to report
    this.streams.push(stream)
  }

  pause(): void {
    for (const s of this.streams) s.pause()
  }

  resume(): void {
    for (const s of this.streams) s.resume()
  }

  async close(): Promise<void> {
    this.closed = true
    for (const s of this.streams) s.destroy()
    await this.flushing?.catch(() => {})
    await this.store.close()
  }
}
