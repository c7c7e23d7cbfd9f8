// Hyperswarm for one channel: the topic comes from the chain id and the channel's address, our identity is our
// peer key, and the firewall admits only members' peer keys as registered on chain. Every connection replicates
// the Corestore, so trade logs flow both ways and a peer that comes back catches up from them.
import { createHash } from 'node:crypto'
import HyperDHT from 'hyperdht'
import Hyperswarm, { type Connection } from 'hyperswarm'
import type Corestore from 'corestore'
import type { PeerKeyPair } from '../log/peer-key.js'

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
}

export class ChannelSwarm {
  private readonly swarm: Hyperswarm
  private readonly dht: HyperDHT | undefined
  /** Connections refused by the firewall, for the node's status. */
  refused = 0

  constructor(private readonly opts: ChannelSwarmOptions) {
    // On one machine every DHT node must bind and announce 127.0.0.1, or connections never carry data.
    this.dht = opts.bootstrap ? new HyperDHT({ bootstrap: opts.bootstrap, host: '127.0.0.1', ephemeral: true }) : undefined
    this.swarm = new Hyperswarm({
      keyPair: opts.keyPair,
      ...(this.dht ? { dht: this.dht } : {}),
      firewall: (remote) => {
        const refuse = !opts.isMember(remote)
        if (refuse) this.refused++
        return refuse
      },
    })
    this.swarm.on('connection', (conn: Connection) => {
      conn.on('error', () => {}) // a peer going away is normal; the logs catch up on reconnect
      opts.store.replicate(conn)
    })
  }

  /** Announces and looks up the channel's topic; resolves once the first round of discovery is done. */
  async join(): Promise<void> {
    this.swarm.join(this.opts.topic, { server: true, client: true })
    await this.swarm.flush()
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
