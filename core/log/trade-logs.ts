// Every member's trade log as a Hypercore in one Corestore under the node's data directory. A member's log is
// signed by its peer key: our own is writable, every other member's is found from the peer key registered on
// chain (the same manifest Corestore derives for a key pair). Implements the consensus Transport: the entries
// appended in one tick go out as one block (see blocks.ts); every log is read in order, our own stored entries
// first, then all of them live. An entry appended with recipients goes to `push` once stored, with its position in
// our log (the network layer sends it over the swarm connection); an entry pushed to us comes in through `pushed`.
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import type { Readable } from 'node:stream'
import type { EntryHandler, Transport } from '../consensus/transport.js'
import { decodeBlock, encodeBlocks } from './blocks.js'
import type { PeerKeyPair } from './peer-key.js'

const MANIFEST_VERSION = 1
/** How long another member's new blocks wait to be fetched together once it pushed us something. */
const BATCH_MS = 50
/**
 * How long they wait otherwise: a member not party to a payment has nothing to do with it now, and catches up with
 * the log in larger batches (a proposal, pushed to everyone, brings its author's log in at once).
 */
const LAZY_MS = 1000
/** How long a log no longer wanted from everyone keeps its channels to other readers (Hypercore's default: 20-40 s). */
const LINGER_MS = 2000

export class TradeLogs implements Transport {
  readonly store: Corestore
  private own: Hypercore | undefined
  private readonly cores = new Map<number, Hypercore>()
  private readonly streams: Readable[] = []
  private handler: EntryHandler | undefined
  private batch: Uint8Array[] = []
  private batchTo: Array<readonly number[]> = []
  /** Blocks of our own log when it was opened, and the entries they hold once read: new entries' positions follow. */
  private openedBlocks = 0
  private openedEntries: number | undefined
  /** Entries we appended since it was opened. */
  private appended = 0
  /** Sends a stored entry of ours to members (set by the network layer). */
  push: ((to: readonly number[], position: number, entry: Uint8Array) => void) | undefined
  private flushing: Promise<void> | undefined
  private written: Promise<void> = Promise.resolve()
  private closed = false
  private paused = false
  /** Batched readers waiting for `resume`, and how to stop each. */
  private readonly onResume: Array<() => void> = []
  private readonly stops: Array<() => void> = []
  private readonly reading = new Set<number>()
  /** Per member: fetch its log soon up to the entry at a position it pushed us (its log must bring it in order). */
  private readonly wake = new Map<number, (position: number) => void>()
  /** Our stored entries have been handed on: others' entries may follow (pushed ones before are dropped). */
  private ownReplayed = false

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
    this.openedBlocks = this.own.length
    this.cores.set(this.me, this.own)
  }

  /**
   * Starts following member `index`'s log (members from the chain, joiners as they come). Replicated from its
   * author alone while the author is connected: every member wanting every log from every other (Hypercore's
   * default) costs each append an announcement and a verified upgrade across all n(n-1) pairs, which made the
   * cost per payment grow with the square of the channel. Without its author, from anyone who holds it.
   */
  async follow(index: number, peerKey: Buffer): Promise<void> {
    if (this.cores.has(index) || this.closed) return
    const core = this.store.get({ manifest: { version: MANIFEST_VERSION, signers: [{ publicKey: peerKey }] }, active: false, notDownloadingLinger: LINGER_MS })
    this.cores.set(index, core)
    await core.ready()
    this.fromAuthorWhileThere(core, peerKey)
    if (this.handler && this.ownReplayed) this.readInBatches(index, core) // else start() reads it
  }

  /** Keeps `core` inactive (its idle channels to other readers close) while its author is among its peers. */
  private fromAuthorWhileThere(core: Hypercore, author: Buffer): void {
    let active: boolean | undefined
    const check = (): void => {
      const want = !core.peers.some((p) => p.remotePublicKey.equals(author))
      if (want === active || this.closed) return
      active = want
      core.setActive(want)
    }
    core.on('peer-add', check)
    core.on('peer-remove', check)
    this.stops.push(() => {
      core.off('peer-add', check)
      core.off('peer-remove', check)
    })
    check()
  }

  append(entries: readonly Uint8Array[], recipients?: ReadonlyArray<readonly number[]>): Promise<void> {
    this.batch.push(...entries)
    this.batchTo.push(...entries.map((_, i) => recipients?.[i] ?? []))
    // Everything appended in this tick goes to disk as one Hypercore batch, after the batch before it.
    if (!this.flushing) {
      this.flushing = this.written.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(() => this.flush())
      this.written = this.flushing.catch(() => {})
    }
    return this.flushing
  }

  private async flush(): Promise<void> {
    const entries = this.batch
    const to = this.batchTo
    this.batch = []
    this.batchTo = []
    this.flushing = undefined
    if (!this.own) throw new Error('trade log not open')
    if (entries.length === 0) return
    await this.own.append(encodeBlocks(entries))
    const first = this.appended + (this.openedEntries ?? NaN)
    this.appended += entries.length
    // Pushed only once stored: a pushed entry a crash could lose would be a promise the log does not keep. Before
    // our stored entries are counted their positions are unknown, and replication alone carries them.
    if (Number.isNaN(first)) return
    entries.forEach((e, i) => {
      if (to[i]!.length > 0) this.push?.(to[i]!, first + i, e)
    })
  }

  /** An entry member `author` pushed to us (the network layer vouches that it came from that member's peer). */
  pushed(author: number, position: number, entry: Uint8Array): void {
    // Not before our stored entries are read: a restarted member hears no one before itself (its log brings it later).
    if (author !== this.me && this.cores.has(author) && this.ownReplayed) {
      this.handler?.(author, position, entry, true)
      this.wake.get(author)?.(position)
    }
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
    blocks.forEach((block, i) => {
      if (i === this.openedBlocks) this.openedEntries = position.next
      this.deliver(this.me, block, position)
    })
    this.openedEntries ??= position.next
    this.tail(this.me, own, stored, position)
    this.ownReplayed = true
    for (const [index, core] of this.cores) if (index !== this.me) this.readInBatches(index, core)
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

  /**
   * Reads another member's log in batches: what it appended in the last LAZY_MS (BATCH_MS after it pushed us
   * something) is fetched with one range request and delivered in order. The hot path does not wait for this
   * (entries that must be acted on now are pushed); batching keeps replication's cost per block (proofs, verified
   * writes, storage batches) low.
   */
  private readInBatches(index: number, core: Hypercore): void {
    if (this.reading.has(index)) return // one reader per log
    this.reading.add(index)
    const position = { next: 0 }
    let read = 0
    let timer: NodeJS.Timeout | undefined
    let pulling = false // one pull at a time: two would share `read` and number entries wrongly
    const pull = async (): Promise<void> => {
      timer = undefined
      if (this.closed || !this.handler || pulling) return
      if (this.paused) return void this.onResume.push(() => later(BATCH_MS))
      pulling = true
      try {
        await core.ready() // started by start() before follow's ready: its length would read 0 until an append
        const end = core.length
        if (read < end) await core.download({ start: read, end }).done()
        for (; read < end && !this.closed && this.handler; read++) {
          const block = await core.get(read)
          // Hypercore's get can answer null (a block the bitfield counted before storage held it): asked for again
          // later, never passed over, or every later entry of this log would be numbered wrongly and no pushed
          // entry of its author would match its log copy again.
          if (!block) break
          this.deliver(index, block, position)
        }
      } finally {
        pulling = false
      }
      if (core.length > read) later(soon() ? BATCH_MS : LAZY_MS)
    }
    // An entry pushed to us that the log has not brought yet: its block is fetched as soon as its length is known
    // (the push can arrive before the announcement of the append that stored it).
    let pushedUpTo = -1
    const soon = (): boolean => position.next <= pushedUpTo
    let due = 0
    const later = (ms = LAZY_MS): void => {
      if (timer && due <= Date.now() + ms) return
      clearTimeout(timer)
      due = Date.now() + ms
      timer = setTimeout(() => void pull().catch(() => later()), ms)
    }
    const appended = (): void => later(soon() ? BATCH_MS : LAZY_MS)
    core.on('append', appended)
    this.wake.set(index, (pushed) => {
      pushedUpTo = Math.max(pushedUpTo, pushed)
      if (soon()) later(BATCH_MS)
    })
    this.stops.push(() => {
      clearTimeout(timer)
      core.off('append', appended)
    })
    later(BATCH_MS)
  }

  pause(): void {
    this.paused = true
    for (const s of this.streams) s.pause()
  }

  resume(): void {
    this.paused = false
    for (const s of this.streams) s.resume()
    for (const go of this.onResume.splice(0)) go()
  }

  async close(): Promise<void> {
    this.closed = true
    for (const s of this.streams) s.destroy()
    for (const stop of this.stops.splice(0)) stop()
    await this.flushing?.catch(() => {})
    await this.store.close()
  }
}
