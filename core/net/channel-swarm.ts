// Hyperswarm for one channel: the topic comes from the chain id and the channel's address, our identity is our
// peer key, and the firewall admits only members' peer keys as registered on chain. Every connection replicates
// the Corestore, so trade logs flow both ways and a peer that comes back catches up from them, and carries the
// push channel the hot path uses (push-links.ts).
import { createHash } from 'node:crypto'
import HyperDHT from 'hyperdht'
import Hyperswarm, { type Connection, type Discovery } from 'hyperswarm'
import type Corestore from 'corestore'
import type { PeerKeyPair } from '../log/peer-key.js'
import { PushLinks } from './push-links.js'

/** How to reach the DHT: the public network by default, or a local one (tests, the sandbox). */
export type Bootstrap = Array<{ host: string; port: number }> | undefined

export function channelTopic(chainId: bigint, channel: string): Buffer {
  return createHash('sha256').update(`offchain-channel:${chainId}:${channel.toLowerCase()}`).digest()
}

export interface ChannelSwarmOptions {
  keyPair: PeerKeyPair
  topic: Buffer
  store: Corestore
  /** Whether a remote peer key belongs to a member (asked on every connection attempt). */
  isMember: (peerKey: Buffer) => boolean
  /** A local DHT's bootstrap nodes; undefined for the public DHT. */
  bootstrap?: Bootstrap
  /** An entry a member (by peer key) pushed to us. */
  pushed?: (from: Buffer, position: number, entry: Uint8Array) => void
  /** A push channel closed (pushes written to it may be lost). */
  pushLost?: () => void
  log?: (line: string) => void
}

export class ChannelSwarm {
  private readonly swarm: Hyperswarm
  private readonly dht: HyperDHT | undefined
  private discovery: Discovery | undefined
  /** Connections refused by the firewall, for the node's status. */
  refused = 0
  private readonly links: PushLinks

  constructor(private readonly opts: ChannelSwarmOptions) {
    this.links = new PushLinks(opts.topic, (from, position, entry) => opts.pushed?.(from, position, entry), () => opts.pushLost?.())
    // A local DHT (tests, the sandbox) runs on this machine's loopback: every node must bind 127.0.0.1 and say it is
    // not firewalled. Left to detect it, nodes in separate processes take themselves for firewalled, try to
    // holepunch each other, and their connections time out without carrying data.
    this.dht = opts.bootstrap
      ? new HyperDHT({ bootstrap: opts.bootstrap, host: '127.0.0.1', ephemeral: true, firewalled: false })
      : undefined
    this.swarm = new Hyperswarm({
      keyPair: opts.keyPair,
      ...(this.dht ? { dht: this.dht } : {}),
      firewall: (remote) => {
        const refuse = !opts.isMember(remote)
        if (refuse) {
          this.refused++
          opts.log?.(`refused a connection from ${remote.toString('hex').slice(0, 8)}: not a member`)
        }
        return refuse
      },
    })
    this.swarm.on('connection', (conn: Connection) => {
      const peer = conn.remotePublicKey.toString('hex').slice(0, 8)
      opts.log?.(`connected to ${peer}`)
      conn.on('close', () => opts.log?.(`disconnected from ${peer}`))
      conn.on('error', (err: Error) => opts.log?.(`connection to ${peer}: ${err.message}`)) // the logs catch up on reconnect
      opts.store.replicate(conn)
      this.links.attach(conn) // on the muxer replication made
    })
  }

  /** Announces and looks up the channel's topic; resolves once the first round of discovery is done. */
  async join(): Promise<void> {
    this.discovery = this.swarm.join(this.opts.topic, { server: true, client: true })
    await this.swarm.flush()
  }

  /**
   * A member that joined since we started: Hyperswarm bans for good a key its firewall refused once (the newcomer
   * may have knocked before we read its key from the chain), so lift the ban.
   */
  admit(peerKey: Buffer): void {
    const info = this.swarm.peers.get(peerKey.toString('hex'))
    if (info?.banned) info.ban(false)
    // And look the topic up again, so we dial the newcomer ourselves rather than wait for its retries.
    this.discovery?.refresh().catch(() => {})
  }

  /** Pushes our entry at `position` to the member with `peerKey`, if connected (else its log will carry it). */
  push(peerKey: Buffer, position: number, entry: Uint8Array): boolean {
    return this.links.send(peerKey, position, entry)
  }

  /** Peer keys of the members we are connected to right now. */
  connectedPeers(): Buffer[] {
    return [...this.swarm.connections].map((c) => c.remotePublicKey)
  }

  async close(): Promise<void> {
    await this.swarm.destroy()
    await this.dht?.destroy()
  }
}
