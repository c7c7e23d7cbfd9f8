// Entries pushed straight to the members that must act on them (DESIGN.md section 3), over a Protomux channel on
// the swarm connection Hypercore replication already uses. The connection's Noise handshake proved the remote
// peer key, so a pushed entry is known to come from that member; what it says is checked like any log entry.
import c from 'compact-encoding'
import type { Connection } from 'hyperswarm'
import Protomux, { type Channel, type Message } from 'protomux'
import { MAX_ENTRY_BYTES } from '../protocol/entries.js'

const PROTOCOL = 'offchain-channel/push/1'
/** A connection whose write queue holds more than this is not pushed to (the log carries the entry): bounded memory. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024

interface Pushed {
  position: number
  entry: Uint8Array
}

const pushed: c.Encoder<Pushed> = {
  preencode(state, m) {
    c.uint.preencode(state, m.position)
    c.uint8array.preencode(state, m.entry)
  },
  encode(state, m) {
    c.uint.encode(state, m.position)
    c.uint8array.encode(state, m.entry)
  },
  decode(state) {
    return { position: c.uint.decode(state), entry: c.uint8array.decode(state) }
  },
}

export class PushLinks {
  /** The push channel and message of each connected member, by hex peer key. */
  private readonly links = new Map<string, { conn: Connection; channel: Channel; message: Message<Pushed> }>()

  constructor(
    /** The channel's topic: one push channel per channel, even between peers in several. */
    private readonly id: Buffer,
    /** An entry `from` (a member's peer key) pushed to us. */
    private readonly received: (from: Buffer, position: number, entry: Uint8Array) => void,
    /** A push channel closed: what was written to it and not yet sent is lost, only the log can carry it now. */
    private readonly lost: () => void = () => {},
  ) {}

  /** Opens the push channel on a new (firewall-admitted) connection. */
  attach(conn: Connection): void {
    const remote = conn.remotePublicKey
    const key = remote.toString('hex')
    const channel = Protomux.from(conn).createChannel({
      protocol: PROTOCOL,
      id: this.id,
      onclose: () => {
        if (this.links.get(key)?.message === message) this.links.delete(key)
        this.lost()
      },
    })
    if (!channel) return
    const message = channel.addMessage({
      encoding: pushed,
      onmessage: (m) => {
        // Oversized or malformed: dropped here; the log still carries whatever the member really wrote.
        // A copy: the decoded bytes may be a view into a buffer the stream reuses, and the entry is kept until its
        // log copy arrives to be compared.
        if (Number.isSafeInteger(m.position) && m.entry.byteLength <= MAX_ENTRY_BYTES) this.received(remote, m.position, Uint8Array.from(m.entry))
      },
    })
    channel.open()
    this.links.set(key, { conn, channel, message })
  }

  /**
   * Pushes our entry at `position` to the member with `peerKey`; false if we have no open channel to it now (or its
   * connection is being torn down: the channel closes a moment later, what is written meanwhile is dropped). Not
   * the send's own answer: that is false also when the connection's buffer is full, and the entry is buffered and
   * sent all the same (taken as lost, it made a busy leader store a block every tick, each read by every member).
   */
  send(peerKey: Buffer, position: number, entry: Uint8Array): boolean {
    const link = this.links.get(peerKey.toString('hex'))
    if (!link || link.channel.closed || link.conn.destroying === true) return false
    // Ending (the remote ended, Protomux ends too): streamx drops every write from then on without a word.
    // Or a peer that stopped reading: its queue would grow without bound.
    const queue = (link.conn as unknown as { _writableState?: { ending?: boolean; buffered?: number } })._writableState
    if (queue?.ending === true || (queue?.buffered ?? 0) > MAX_QUEUED_BYTES) return false
    link.message.send({ position, entry })
    return true
  }
}
