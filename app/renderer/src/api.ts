// The renderer's only way to the core: the NodeApi, through Electron's preload bridge when there is one, else over
// the WebSocket of `node --ui` (its token comes in the page URL's fragment).
// It imports only types from core/: its bundle carries no core code.
import type { ApiError as ErrorShape, CallTimeoutMs, Reply } from '../../../core/node/api-reply'
import type { AppStatus, ChannelLiveEvent, ChannelSettingsView, ChannelSummary, ChannelView, NetworkView, NodeEvent, TransferView } from '../../../core/node/node-api'

export interface Bridge {
  /** Resolves with the core's reply; rejects only when the core cannot be reached. */
  call(method: string, args: unknown[]): Promise<Reply>
  onEvent(listener: (e: NodeEvent) => void): () => void
}

/** A call that failed: the core's code (or the bridge's own: DISCONNECTED, TIMEOUT) and its sentence. */
export class ApiError extends Error implements ErrorShape {
  override readonly name = 'ApiError'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** What Electron's preload exposes: one function per NodeApi method, and the event stream. */
type PreloadApi = Record<string, (...args: unknown[]) => Promise<Reply>> & { onEvent: Bridge['onEvent'] }

declare global {
  interface Window {
    offchain?: PreloadApi
  }
}

function preloadBridge(p: PreloadApi): Bridge {
  return {
    call: (method, args) => {
      const fn = p[method]
      return fn ? fn(...args) : Promise.resolve({ ok: false, error: { code: 'BAD_CALL', message: `no such method: ${method}` } })
    },
    onEvent: (listener) => p.onEvent(listener),
  }
}

/** core/node/api-reply.ts's CALL_TIMEOUT_MS: its type admits no other value. */
const CALL_TIMEOUT_MS: CallTimeoutMs = 120_000

function socketBridge(): Bridge {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? ''
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api?token=${encodeURIComponent(token)}`
  const listeners = new Set<(e: NodeEvent) => void>()
  const waiting = new Map<number, { resolve: (v: Reply) => void; reject: (e: Error) => void }>()
  let next = 1
  let socket: Promise<WebSocket> | undefined
  const connect = (): Promise<WebSocket> =>
    (socket ??= new Promise((resolve, reject) => {
      const ws = new WebSocket(url)
      ws.onopen = () => resolve(ws)
      ws.onerror = () => reject(new ApiError('DISCONNECTED', 'Cannot reach the node: is `node --ui` still running, and is the URL the one it printed?'))
      ws.onclose = () => {
        socket = undefined
        for (const w of waiting.values()) w.reject(new ApiError('DISCONNECTED', 'The connection to the node closed.'))
        waiting.clear()
      }
      ws.onmessage = (m) => {
        const msg = JSON.parse(String(m.data)) as Partial<Reply> & { id?: number; event?: NodeEvent }
        if (msg.event) return listeners.forEach((l) => l(msg.event!))
        const w = msg.id === undefined ? undefined : waiting.get(msg.id)
        if (!w) return
        waiting.delete(msg.id!)
        w.resolve(msg as Reply)
      }
    }))
  return {
    async call(method, args) {
      const ws = await connect()
      const id = next++
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id)
          reject(new ApiError('TIMEOUT', `${method} took longer than ${CALL_TIMEOUT_MS / 1000} s`))
        }, CALL_TIMEOUT_MS)
        waiting.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        })
        ws.send(JSON.stringify({ id, method, args }))
      })
    },
    onEvent(listener) {
      listeners.add(listener)
      void connect().catch(() => {})
      return () => listeners.delete(listener)
    },
  }
}

const bridge: Bridge = window.offchain ? preloadBridge(window.offchain) : socketBridge()
async function call<T>(method: string, ...args: unknown[]): Promise<T> {
  const reply = await bridge.call(method, args)
  if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message)
  return reply.result as T
}

export const api = {
  status: () => call<AppStatus>('status'),
  unlockVault: (passphrase: string) => call<void>('unlockVault', passphrase),
  createAccount: () => call<string>('createAccount'),
  importPrivateKey: (key: string) => call<string>('importPrivateKey', key),
  importKeystore: (json: string, password: string) => call<string>('importKeystore', json, password),
  exportKeystore: (password: string) => call<string>('exportKeystore', password),
  selectAccount: (address: string) => call<void>('selectAccount', address),
  useNetwork: (n: { kind: 'sandbox' } | { kind: 'rpc'; rpcUrl: string }) => call<NetworkView>('useNetwork', n),
  sandboxFund: () => call<string>('sandboxFund'),
  createChannel: (depositWei: string, members: string[]) =>
    call<ChannelSummary>('createChannel', members.length > 0 ? { depositWei, members } : { depositWei }),
  channelSettings: (invite: string) => call<ChannelSettingsView>('channelSettings', invite),
  joinChannel: (invite: string, depositWei: string) => call<ChannelSummary>('joinChannel', { invite, depositWei }),
  deposit: (channel: string, wei: string) => call<string>('deposit', channel, wei),
  channel: (address: string) => call<ChannelView>('channel', address),
  send: (channel: string, to: number, wei: string) => call<TransferView>('send', channel, to, wei),
  exit: (channel: string) => call<void>('exit', channel),
  withdraw: (channel: string) => call<string>('withdraw', channel),
  closeChannel: (channel: string) => call<string>('closeChannel', channel),
  dismissResumed: (channel: string, ids: string[]) => call<void>('dismissResumed', channel, ids),
  onEvent: (listener: (e: NodeEvent) => void) => bridge.onEvent(listener),
}

export type { AppStatus, ChannelLiveEvent, ChannelSettingsView, ChannelSummary, ChannelView, NodeEvent, TransferView }
