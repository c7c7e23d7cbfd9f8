// Test and sandbox helper: a `node` peer as a real child process, driven by JSON lines. PEER_DEBUG=1 echoes what
// the peers print; PEER_NODE_ARGS adds node flags to each peer (`--cpu-prof --cpu-prof-dir DIR` to profile them,
// which NODE_OPTIONS does not allow).
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Hex } from '../protocol/types.js'
import { ACCOUNT_KEY_ENV, toJson } from './wire.js'

/** The installed command: it registers tsx itself, so peers start wherever the package is, whatever the cwd. */
const COMMAND = fileURLToPath(new URL('../cli/offchain-channel.mjs', import.meta.url))

export interface PeerEvent {
  event: string
  [key: string]: unknown
}

export interface PeerProcessOptions {
  rpc: string
  chainId: bigint
  channel: string
  accountKey: Hex
  dataDir: string
  bootstrap: Array<{ host: string; port: number }>
  join?: string
  epochMs?: number
  leaderTimeoutMs?: number
  /** Another entry script taking the `node` command's flags, and its own flags (tests run hostile nodes so). */
  entry?: { script: string; args: string[] }
}

export class PeerProcess {
  readonly events: PeerEvent[] = []
  private readonly waiting = new Set<() => void>()
  private readonly listeners = new Set<(e: PeerEvent) => void>()
  readonly exited: Promise<number | null>

  private constructor(readonly child: ChildProcess, readonly name: string) {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      let ev: PeerEvent
      try {
        ev = JSON.parse(line) as PeerEvent
      } catch {
        ev = { event: 'output', line }
      }
      if (process.env.PEER_DEBUG) console.log(`[${name}] ${line}`)
      this.arrived(ev)
    })
    child.stderr?.on('data', (c: Buffer) => {
      if (process.env.PEER_DEBUG) console.log(`[${name} stderr] ${c.toString()}`)
      this.arrived({ event: 'stderr', line: c.toString() })
    })
    // A command written as the peer dies fails with EPIPE: the exit says what happened, this must not throw.
    child.stdin?.on('error', () => {})
    this.exited = once(child, 'exit').then(([code]) => code as number | null)
  }

  static spawn(name: string, o: PeerProcessOptions): PeerProcess {
    const args = [
      ...peerNodeArgs(name),
      ...(o.entry ? ['--import', 'tsx', o.entry.script, ...o.entry.args] : [COMMAND, 'node']),
      '--rpc', o.rpc,
      '--chain-id', o.chainId.toString(),
      '--channel', o.channel,
      '--data-dir', o.dataDir,
      '--bootstrap', o.bootstrap.map((b) => `${b.host}:${b.port}`).join(','),
      '--epoch-ms', String(o.epochMs ?? 1500),
      '--leader-timeout-ms', String(o.leaderTimeoutMs ?? 3000),
      ...(o.join ? ['--join', o.join] : []),
    ]
    const child = spawn(process.execPath, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, [ACCOUNT_KEY_ENV]: o.accountKey },
    })
    return new PeerProcess(child, name)
  }

  private arrived(ev: PeerEvent): void {
    this.events.push(ev)
    for (const l of this.listeners) l(ev)
    for (const w of this.waiting) w()
  }

  /**
   * Calls `listener` with every event from now on; returns its removal. A long-running supervisor (the soak) reads
   * events so and empties `events`, which otherwise keeps them all.
   */
  onEvent(listener: (e: PeerEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  command(cmd: object): void {
    this.child.stdin?.write(`${toJson(cmd)}\n`)
  }

  /** Waits for an event matching `match` (searching what already arrived first). */
  async waitFor(event: string, match: (e: PeerEvent) => boolean = () => true, ms = 30_000): Promise<PeerEvent> {
    const find = (): PeerEvent | undefined => this.events.find((e) => e.event === event && match(e))
    const found = find()
    if (found) return found
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(check)
        const tail = this.events.slice(-15).map((e) => JSON.stringify(e)).join('\n')
        reject(new Error(`${this.name}: no ${event} within ${ms} ms; last events:\n${tail}`))
      }, ms)
      const check = (): void => {
        const e = find()
        if (!e) return
        clearTimeout(timer)
        this.waiting.delete(check)
        resolve(e)
      }
      this.waiting.add(check)
    })
  }

  /** Asks the peer for its state and history. */
  async state(): Promise<PeerEvent> {
    const before = this.events.length
    this.command({ cmd: 'state' })
    return this.waitFor('state', (e) => this.events.indexOf(e) >= before)
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    return this.exited
  }
}

/**
 * Node flags for peer `name` from PEER_NODE_ARGS, given to every peer or, with PEER_NODE_ARGS_ONLY (names, comma
 * separated), to those only: profiling one peer of many costs the machine less and leaves the rest as they run.
 */
function peerNodeArgs(name: string): string[] {
  const only = process.env.PEER_NODE_ARGS_ONLY?.split(',')
  if (only && !only.includes(name)) return []
  return (process.env.PEER_NODE_ARGS ?? '').split(' ').filter(Boolean)
}
