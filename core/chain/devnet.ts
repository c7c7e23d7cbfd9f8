// The embedded default chain: a real anvil node (the binary ships inside the @foundry-rs/anvil npm package) on
// 127.0.0.1 with a free port and funded dev accounts. stop() always ends the process; so does the parent's exit.
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { HDNodeWallet, JsonRpcProvider, Mnemonic } from 'ethers'
import type { Hex } from '../protocol/types.js'
import { ChainError } from './errors.js'
import { chainProvider } from './provider.js'

/** Anvil's well-known development mnemonic: these keys are public, never use them on a real network. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

export interface DevnetOptions {
  /** Funded accounts to create (default 10). */
  accounts?: number
  /** Ether per account (default 10000). */
  balanceEth?: number
  /** Default 31337. */
  chainId?: number
  /** Block gas limit (default 30M, the budget a dispute must fit in). */
  gasLimit?: bigint
  /** Milliseconds to wait for the node to answer (default 30 s). */
  startTimeoutMs?: number
}

export interface Devnet {
  readonly rpcUrl: string
  readonly chainId: bigint
  /** Private keys of the funded accounts, in anvil's order. */
  readonly keys: readonly Hex[]
  readonly provider: JsonRpcProvider
  /** The anvil process. */
  readonly pid: number
  /** Moves the chain's clock forward and mines a block with the new time. */
  increaseTime(seconds: number): Promise<void>
  stop(): Promise<void>
}

const ARCH: Partial<Record<string, string>> = { x64: 'amd64', arm64: 'arm64' }

/** Path of the anvil binary for this platform, from its platform package (no download, no wrapper process). */
export function anvilBinary(): string {
  const arch = ARCH[process.arch]
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch ?? process.arch}`
  const require = createRequire(import.meta.url)
  let manifest: string
  try {
    manifest = require.resolve(`${pkg}/package.json`)
  } catch {
    throw new ChainError('DEVNET_UNAVAILABLE', `no anvil binary for ${process.platform}-${process.arch} (${pkg} is not installed)`)
  }
  return join(dirname(manifest), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
}

export function devKeys(count: number): Hex[] {
  const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), "m/44'/60'/0'/0")
  return Array.from({ length: count }, (_, i) => root.deriveChild(i).privateKey as Hex)
}

export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const accounts = options.accounts ?? 10
  const chainId = options.chainId ?? 31337
  const args = [
    '--host', '127.0.0.1',
    '--port', '0',
    '--accounts', String(accounts),
    '--balance', String(options.balanceEth ?? 10_000),
    '--chain-id', String(chainId),
    '--gas-limit', String(options.gasLimit ?? 30_000_000n),
    '--mnemonic', DEV_MNEMONIC,
  ]
  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const releaseGuard = guardAgainstOrphan(child)

  let port: number
  try {
    port = await listeningPort(child, options.startTimeoutMs ?? 30_000)
  } catch (err) {
    await stopChild(child)
    releaseGuard()
    throw err
  }
  const rpcUrl = `http://127.0.0.1:${port}`
  const provider = chainProvider('sandbox', rpcUrl, BigInt(chainId))
  return {
    rpcUrl,
    chainId: BigInt(chainId),
    keys: devKeys(accounts),
    provider,
    pid: child.pid as number,
    async increaseTime(seconds: number) {
      await provider.send('evm_increaseTime', [seconds])
      await provider.send('evm_mine', [])
    },
    async stop() {
      provider.destroy()
      await stopChild(child)
      releaseGuard()
    },
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/**
 * Kills anvil when this process ends: on exit, and on a terminating signal. A signal nobody else handles keeps its
 * default meaning (the process ends), so the guard re-raises it after killing the chain. Returns the release.
 */
function guardAgainstOrphan(child: ChildProcess): () => void {
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    kill()
    if (process.listenerCount(signal) === 1) {
      release()
      process.kill(process.pid, signal)
    }
  }
  function release(): void {
    process.removeListener('exit', kill)
    for (const sig of SIGNALS) process.removeListener(sig, onSignal)
  }
  process.on('exit', kill)
  for (const sig of SIGNALS) process.on(sig, onSignal)
  return release
}

/** Waits for anvil's "Listening on 127.0.0.1:PORT" line. */
function listeningPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => fail(`anvil did not start within ${timeoutMs} ms`), timeoutMs)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(output)
      if (m) {
        cleanup()
        resolve(Number(m[1]))
      }
    }
    const onExit = (code: number | null): void => fail(`anvil exited (code ${code}) before listening`)
    const onError = (err: Error): void => fail(`anvil could not be started: ${err.message}`)
    function cleanup(): void {
      clearTimeout(timer)
      child.stdout?.removeListener('data', onData)
      child.stderr?.removeListener('data', onData)
      child.removeListener('exit', onExit)
      child.removeListener('error', onError)
      // Keep draining so a chatty node never blocks on a full pipe.
      child.stdout?.resume()
      child.stderr?.resume()
    }
    function fail(why: string): void {
      cleanup()
      reject(new ChainError('DEVNET_FAILED', `${why}\n${output.slice(-2000)}`))
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', onExit)
    child.once('error', onError)
  })
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}
