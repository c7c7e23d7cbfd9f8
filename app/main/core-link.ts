// Main's side of the core process: numbered calls and their replies, events, and a restart when it dies.
import type { UtilityProcess } from 'electron'
import type { Reply } from '../../core/node/api-reply.js'
import type { NodeEvent } from '../../core/node/node-api.js'
import type { CoreLink } from './api-relay.js'

const MAX_RESTARTS_PER_MINUTE = 5

export class UtilityCoreLink implements CoreLink {
  private child: UtilityProcess | undefined
  private next = 1
  private readonly waiting = new Map<number, (r: Reply) => void>()
  private readonly listeners = new Set<(e: NodeEvent) => void>()
  private restarts: number[] = []
  private stopping = false

  constructor(private readonly spawn: () => UtilityProcess) {
    this.start()
  }

  private start(): void {
    const child = this.spawn()
    this.child = child
    child.on('message', (m: { id?: number; event?: NodeEvent } & Partial<Reply>) => {
      const { id, event, ...reply } = m
      if (event) return this.listeners.forEach((l) => l(event))
      const done = id === undefined ? undefined : this.waiting.get(id)
      if (!done) return
      this.waiting.delete(id!)
      done(reply as Reply)
    })
    child.on('exit', (code) => {
      for (const done of this.waiting.values()) done({ ok: false, error: { code: 'CORE_RESTARTED', message: `The core stopped (exit ${code}); try again in a moment.` } })
      this.waiting.clear()
      if (this.stopping) return
      const now = Date.now()
      this.restarts = [...this.restarts.filter((t) => now - t < 60_000), now]
      if (this.restarts.length > MAX_RESTARTS_PER_MINUTE) return // crashing in a loop: leave it down, calls say so
      setTimeout(() => this.start(), 1000)
      this.listeners.forEach((l) => l({ type: 'status' }))
    })
  }

  call(method: string, args: unknown[]): Promise<Reply> {
    const child = this.child
    if (!child || child.pid === undefined) {
      return Promise.resolve({ ok: false, error: { code: 'CORE_DOWN', message: 'The core is not running; restart the app.' } })
    }
    const id = this.next++
    return new Promise((resolve) => {
      this.waiting.set(id, resolve)
      child.postMessage({ id, method, args })
    })
  }

  onEvent(listener: (e: NodeEvent) => void): void {
    this.listeners.add(listener)
  }

  stop(): void {
    this.stopping = true
    this.child?.kill()
  }
}
