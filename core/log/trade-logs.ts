// Every member's trade log as a Hypercore in one Corestore under the node's data directory. A member's log is
// signed by its peer key: our own is writable, every other member's is found from the peer key registered on
// chain (the same manifest Corestore derives for a key pair). Implements the consensus Transport. Our entries go to
// a journal file first (entry-journal.ts) and, from there, are delivered back to us and pushed: the entries appended
// in one tick are one journal record, pushed with their positions in our log to the members that must act on them
// now (the network layer sends them over the swarm connection). They reach our Hypercore in larger blocks (see
// `store`); an entry pushed to us comes in through `pushed`. Every log is read in order, our own stored entries
// first.
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import type { EntryHandler, Transport } from '../consensus/transport.js'
import { decodeBlock, encodeBlocks } from './blocks.js'
import { EntryJournal, JournalError } from './entry-journal.js'
import type { PeerKeyPair } from './peer-key.js'
import { errorMessage } from '../util/error-message.js'

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
/**
 * How often our journaled entries become a block of our Hypercore, per member followed: every block costs each
 * reader a request, a proof, a verified write and a read (about a millisecond of CPU here), whatever it holds, so
 * what the readers together pay for our log does not grow with the channel. Bounded both ways. (16 peers on this
 * 2-core machine, 8 s of load: 50 ms a member gave 117 payments a second at 16 ms of CPU each, 150 ms 245/s at
 * 7.6 ms, 300 ms 344/s at 5.4 ms.) The upper bound covers a 64-member channel (19.2 s): capped at 5 s, its
 * members' blocks cost each reader 12.6 blocks a second even at 19 payments a second, and the whole machine about
 * 0.8 s of CPU a second. A proposal or confirmation, or an entry we could not push, is stored at once; a crash
 * loses nothing waiting (the journal holds it).
 */
const STORE_MS_PER_MEMBER = 300
const STORE_MS_MIN = 250
const STORE_MS_MAX = 20_000

export class TradeLogs implements Transport {
  readonly store: Corestore
  private own: Hypercore | undefined
  private readonly journal: EntryJournal
  private readonly cores = new Map<number, Hypercore>()
  private handler: EntryHandler | undefined
  private batch: Uint8Array[] = []
  private batchTo: Array<readonly number[]> = []
  private batchSoon = false
  /** Entries in our log so far (journaled ones included): the next one's position. */
  private entries = 0
  /** Our journaled entries no block holds yet, oldest first, and whether one of them wants its block soon. */
  private unstored: Uint8Array[] = []
  private storeSoon = false
  private storing: Promise<void> | undefined
  private storeTimer: NodeJS.Timeout | undefined
  private lastStored = 0
  /** Our entries not handed to the handler yet (before our stored ones are read, or while paused). */
  private undelivered: Array<{ position: number; entry: Uint8Array }> = []
  /** Sends an entry of ours to members (set by the network layer); false if it could not reach all of them now. */
  push: ((to: readonly number[], position: number, entry: Uint8Array) => boolean) | undefined
  private flushing: Promise<void> | undefined
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
  /** Our log's blocks as `open` read them (journaled entries recovered included), until `start` replays them. */
  private openedBlocks: Buffer[] = []

  constructor(
    directory: string,
    private readonly keyPair: PeerKeyPair,
    private readonly me: number,
    /** Where a failure to store our blocks is said (the entries stay journaled and are tried again). */
    private readonly log: (line: string) => void = () => {},
  ) {
    this.store = new Corestore(directory)
    this.journal = new EntryJournal(`${directory}.journal`)
  }

  /**
   * Opens the store and our log. Entries a crash left in the journal only (decided, maybe pushed, no block yet) are
   * appended to our log first, so everything we said is in it before anyone hears from us again.
   */
  async open(): Promise<void> {
    await this.store.ready()
    this.own = this.store.get({ keyPair: this.keyPair })
    await this.own.ready()
    for (let i = 0; i < this.own.length; i++) {
      const block = await this.own.get(i)
      if (block) this.openedBlocks.push(block)
    }
    this.entries = this.openedBlocks.reduce((sum, block) => sum + entriesIn(block), 0)
    const left: Uint8Array[] = []
    for (const r of this.journal.open(this.own.key)) {
      if (r.first + r.entries.length <= this.entries + left.length) continue // its block was stored before the crash
      if (r.first !== this.entries + left.length) throw new JournalError(`the entry journal in ${this.journal.directory} skips from entry ${this.entries + left.length} to ${r.first}`)
      left.push(...r.entries)
    }
    if (left.length > 0) {
      const recovered = encodeBlocks(left)
      await this.own.append(recovered)
      this.openedBlocks.push(...recovered)
    }
    this.entries += left.length
    this.journal.drop(this.journal.cut())
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

  append(entries: readonly Uint8Array[], recipients?: ReadonlyArray<readonly number[]>, soon = false): Promise<void> {
    this.batch.push(...entries)
    this.batchTo.push(...entries.map((_, i) => recipients?.[i] ?? []))
    this.batchSoon ||= soon
    // Everything appended in this tick is one journal record.
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush())
    return this.flushing
  }

  private flush(): void {
    const entries = this.batch
    const to = this.batchTo
    const soon = this.batchSoon
    this.batch = []
    this.batchTo = []
    this.batchSoon = false
    this.flushing = undefined
    if (entries.length === 0) return
    if (!this.own) throw new Error('trade log not open')
    if (this.closed) throw new Error('trade log closed')
    const first = this.entries
    // Written before it is acted on or pushed: a pushed entry a crash could lose would be a promise the log does
    // not keep.
    this.journal.write({ first, entries })
    this.entries += entries.length
    this.unstored.push(...entries)
    entries.forEach((entry, i) => this.undelivered.push({ position: first + i, entry }))
    this.deliverOwn()
    // An entry that could not be pushed (no connection to a recipient now) has only our log to travel by: it goes
    // into a block at once rather than at the next interval.
    let unpushed = false
    entries.forEach((e, i) => {
      if (to[i]!.length > 0 && this.push?.(to[i]!, first + i, e) === false) unpushed = true
    })
    this.storeSoon ||= soon || unpushed
    this.scheduleStore()
  }

  /** Hands our new entries to the handler, once our stored ones are and while not paused. */
  private deliverOwn(): void {
    if (!this.ownReplayed || this.paused || !this.handler) return
    const list = this.undelivered
    this.undelivered = []
    for (const { position, entry } of list) this.hand(this.me, position, entry)
  }

  /** Stores the journaled entries as blocks: now if one asked for it (a proposal), else once the interval is up. */
  private scheduleStore(): void {
    if (this.storing || this.unstored.length === 0 || this.closed) return
    const every = Math.min(STORE_MS_MAX, Math.max(STORE_MS_MIN, STORE_MS_PER_MEMBER * this.cores.size))
    const wait = this.storeSoon ? 0 : Math.min(every, Math.max(0, this.lastStored + every - performance.now()))
    if (this.storeTimer && wait > 0) return
    clearTimeout(this.storeTimer)
    this.storeTimer = setTimeout(() => {
      this.storeTimer = undefined
      this.storing = this.storeNow().finally(() => {
        this.storing = undefined
        this.scheduleStore()
      })
    }, wait)
  }

  /** Never throws: what it could not store stays journaled and queued, and is tried again after the interval. */
  private async storeNow(): Promise<void> {
    const own = this.own
    if (!own) return
    const entries = this.unstored
    this.unstored = []
    this.storeSoon = false
    this.lastStored = performance.now()
    const blocks = encodeBlocks(entries)
    const before = own.length
    try {
      const segment = this.journal.cut() // what is journaled from now on is not in these blocks
      try {
        await own.append(blocks)
      } catch (err) {
        // Hypercore writes the blocks, then more state: a failure after the blocks landed must not append them again.
        if (own.length < before + blocks.length) throw err
        this.log(`storing our trade log's blocks ended with an error after they were written: ${errorMessage(err)}`)
      }
      this.journal.drop(segment)
    } catch (err) {
      // Not `soon` again even if it was: a storage that keeps failing would be retried in a loop.
      if (own.length < before + blocks.length) this.unstored = [...entries, ...this.unstored]
      this.log(`could not store our trade log's blocks (kept in the journal, tried again): ${errorMessage(err)}`)
    }
  }

  /** Pushes already written may be lost (a push channel closed): what is journaled goes into a block now. */
  pushesLost(): void {
    if (this.unstored.length === 0 || this.closed) return
    this.storeSoon = true
    this.scheduleStore()
  }

  /** An entry member `author` pushed to us (the network layer vouches that it came from that member's peer). */
  pushed(author: number, position: number, entry: Uint8Array): void {
    // Not before our stored entries are read: a restarted member hears no one before itself (its log brings it later).
    if (author !== this.me && this.cores.has(author) && this.ownReplayed) {
      this.hand(author, position, entry, true)
      this.wake.get(author)?.(position)
    }
  }

  subscribe(handler: EntryHandler): () => void {
    this.handler = handler
    void this.start()
    return () => {
      this.handler = undefined
    }
  }

  private async start(): Promise<void> {
    const own = this.own
    if (!own) throw new Error('trade log not open')
    // Our own stored entries first: a restarted member learns what it said before hearing anyone. All of them in
    // one go, so a decision replayed from one block is taken knowing what the later blocks already record. Those
    // journaled since open follow (`undelivered`), then every new one as it is journaled.
    const blocks = this.openedBlocks
    this.openedBlocks = []
    const position = { next: 0 }
    for (const block of blocks) this.deliver(this.me, block, position)
    this.ownReplayed = true
    this.deliverOwn()
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
    for (const entry of entries) this.hand(author, position.next++, entry)
  }

  /**
   * Gives one entry to the handler. A throw is said and goes no further: the rest of a batch must still be handed
   * on, and a log's numbering must not stop midway through a block.
   */
  private hand(author: number, position: number, entry: Uint8Array, pushed?: boolean): void {
    try {
      this.handler?.(author, position, entry, pushed)
    } catch (err) {
      this.log(`handling entry ${position} of member ${author}'s log failed: ${errorMessage(err)}`)
    }
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
        // Between blocks, a pause (our handler's backlog is full) is heeded: a block can hold 4,096 entries.
        for (; read < end && !this.closed && !this.paused && this.handler !== undefined; read++) {
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
  }

  resume(): void {
    this.paused = false
    this.deliverOwn()
    for (const go of this.onResume.splice(0)) go()
  }

  async close(): Promise<void> {
    for (const stop of this.stops.splice(0)) stop()
    await this.flushing?.catch(() => {}) // this tick's entries are journaled
    this.closed = true
    clearTimeout(this.storeTimer)
    await this.storing
    // What is journaled goes into a block now, so a clean stop leaves the journal empty.
    if (this.unstored.length > 0) await this.storeNow()
    this.journal.close()
    await this.store.close()
  }
}

/** How many entries a block of ours holds (one that does not decode counts as one, as `deliver` hands it on). */
function entriesIn(block: Buffer): number {
  try {
    return decodeBlock(block).length
  } catch {
    return 1
  }
}
