// New blocks as a local chain's node announces them (`eth_subscribe` to `newHeads` over its WebSocket), so a peer
// reads the chain when it moved instead of polling it ten times a second: that polling, each read a JSON-RPC call
// through ethers, was three quarters of an idle peer's CPU, and what kept 64 peers from fitting on two cores.
import WebSocket from 'ws'

/** How long to wait before connecting again after the subscription was lost or refused. */
const RETRY_MS = 5000
const SUBSCRIBE_ID = 1

/** The WebSocket address a node serves beside its HTTP one (anvil serves both on one port). */
export function webSocketUrl(rpcUrl: string): string {
  return rpcUrl.replace(/^http(s?):/, 'ws$1:')
}

export class NewHeads {
  private socket: WebSocket | undefined
  private retry: NodeJS.Timeout | undefined
  private closed = false

  /**
   * Connects to `url` and calls `onBlock` at each new block; `onLive` says whether notices are coming (true once
   * subscribed, false when the connection is lost, until a retry subscribes again). Never throws.
   */
  constructor(
    private readonly url: string,
    private readonly onBlock: () => void,
    private readonly onLive: (live: boolean) => void,
  ) {
    this.connect()
  }

  private connect(): void {
    if (this.closed) return
    const socket = (this.socket = new WebSocket(this.url))
    let live = false
    socket.on('open', () => socket.send(JSON.stringify({ jsonrpc: '2.0', id: SUBSCRIBE_ID, method: 'eth_subscribe', params: ['newHeads'] })))
    socket.on('message', (data: WebSocket.RawData) => {
      const message = parse(data)
      if (message?.method === 'eth_subscription') return this.onBlock()
      if (message?.id !== SUBSCRIBE_ID) return
      if (typeof message.result !== 'string') return void socket.terminate() // refused: polling it is
      live = true
      this.onLive(true)
    })
    socket.on('error', () => {}) // 'close' follows
    socket.on('close', () => {
      if (live) this.onLive(false)
      if (!this.closed) this.retry = setTimeout(() => this.connect(), RETRY_MS)
    })
  }

  close(): void {
    this.closed = true
    clearTimeout(this.retry)
    this.socket?.terminate()
  }
}

/** A JSON-RPC message's fields we look at, or undefined for anything else. */
function parse(data: WebSocket.RawData): { id?: unknown; method?: unknown; result?: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(String(data))
    return typeof value === 'object' && value !== null ? (value as { id?: unknown; method?: unknown; result?: unknown }) : undefined
  } catch {
    return undefined
  }
}
