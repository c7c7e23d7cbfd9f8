// Test helpers: a `node --ui` process (the product as a browser user runs it) and Debian's Chromium.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'

const MAIN = fileURLToPath(new URL('../../core/cli/main.ts', import.meta.url))

export class UiProcess {
  readonly output: string[] = []
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(args: string[], name: string, env: NodeJS.ProcessEnv = {}): Promise<UiProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'node', '--ui', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    })
    const output: string[] = []
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: no UI URL in 60 s:\n${output.join('')}`)), 60_000)
      const onData = (c: Buffer): void => {
        output.push(c.toString())
        if (process.env.PEER_DEBUG) process.stdout.write(`[${name}] ${c.toString()}`)
        const m = /UI ready: open (\S+)/.exec(output.join(''))
        if (m) {
          clearTimeout(timer)
          resolve(m[1]!)
        }
      }
      child.stdout!.on('data', onData)
      child.stderr!.on('data', onData)
      child.once('exit', (code) => reject(new Error(`${name} exited (${code}):\n${output.join('')}`)))
    })
    const ui = new UiProcess(child, url)
    ui.output.push(...output)
    child.stdout!.on('data', (c: Buffer) => ui.output.push(c.toString()))
    return ui
  }

  /** Kills the process at once (a crash), and waits until it is gone. */
  async crash(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r))
    this.child.kill('SIGKILL')
    await exited
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((r) => this.child.once('exit', r))
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

/** Polls until `check` returns a value (not undefined/false), or fails with what it last saw. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v
      last = v
    } catch (err) {
      last = err
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`)
    await new Promise((r) => setTimeout(r, 250))
  }
}
