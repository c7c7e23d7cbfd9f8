// Peer-to-peer benchmark (a benchmark, not a test): receipted transfers per second through one leader and the
// request-to-receipt latency, with each peer a separate `node` process on a local DHT and anvil, for 2, 4, 8 and
// 16 peers. Usage: npm run bench:p2p [-- --json FILE] [-- --peers 2,4] [-- --seconds S] [-- --window W]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Wallet } from 'ethers'
import createTestnet from 'hyperdht/testnet.js'
import { CHANNEL_LIMITS, ChannelClient, startDevnet } from '../chain/index.js'
import { PeerProcess } from '../node/peer-process.js'
import type { Hex } from '../protocol/types.js'

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    peers: { type: 'string', default: '2,4,8,16' },
    seconds: { type: 'string', default: '10' },
    window: { type: 'string', default: '32' },
  },
})
const COUNTS = values.peers.split(',').map(Number)
const SECONDS = Number(values.seconds)
const WINDOW = Number(values.window) // payments each peer keeps open

interface Row {
  peers: number
  transfersPerSecond: number
  p50Ms: number
  p99Ms: number
}

async function measure(n: number): Promise<Row> {
  const devnet = await startDevnet({ accounts: n + 1 })
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const work = mkdtempSync(join(tmpdir(), 'bench-p2p-'))
  const peers: PeerProcess[] = []
  try {
    const channel = await ChannelClient.deploy(new Wallet(devnet.keys[0] as string, devnet.provider), {
      responseWindow: 60n,
      staleAfter: 86_400n,
      txCap: CHANNEL_LIMITS.maxTxCap, // the contract's most: a long run's epochs close at it
    })
    for (let i = 0; i < n; i++) {
      const p = PeerProcess.spawn(`peer${i}`, {
        rpc: devnet.rpcUrl,
        chainId: devnet.chainId,
        channel: channel.address,
        accountKey: devnet.keys[i + 1] as Hex,
        dataDir: join(work, `p${i}`),
        bootstrap: testnet.bootstrap,
        join: '10',
        epochMs: 600_000, // no epoch ends by time, only at the per-epoch cap
        leaderTimeoutMs: 600_000,
      })
      peers.push(p)
      await p.waitFor('ready', () => true, 120_000)
    }
    // Close epochs by hand until a checkpoint covers everyone (their deposits become spendable).
    while (!(await channel.events()).some((e) => e.type === 'CheckpointSubmitted' && e.balances.length === n)) {
      for (const p of peers) p.command({ cmd: 'close-epoch' })
      await new Promise((r) => setTimeout(r, 1000))
    }
    await new Promise((r) => setTimeout(r, 1000))

    const latencies: number[] = []
    let id = 0
    const open = peers.map(() => 0)
    const seen = peers.map((p) => p.events.length)
    let measuring = true
    const start = performance.now()
    const pump = setInterval(() => {
      for (const [i, p] of peers.entries()) {
        for (; seen[i]! < p.events.length; seen[i]!++) {
          const e = p.events[seen[i]!]!
          if (e.event === 'sent' && measuring) latencies.push(Number(e.ms))
          if (e.event === 'sent' || e.event === 'error') open[i]!--
        }
        while (measuring && open[i]! < WINDOW) {
          p.command({ cmd: 'send', id: id++, to: (i + 1 + (id % (n - 1))) % n, amount: '1' })
          open[i]!++
        }
      }
    }, 5)
    await new Promise((r) => setTimeout(r, SECONDS * 1000))
    measuring = false
    clearInterval(pump)
    const seconds = (performance.now() - start) / 1000
    latencies.sort((a, b) => a - b)
    const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN
    return { peers: n, transfersPerSecond: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99) }
  } finally {
    await Promise.all(peers.map((p) => p.kill('SIGTERM')))
    await testnet.destroy()
    await devnet.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

const rows: Row[] = []
console.log('| peers | receipted transfers/s | p50 ms | p99 ms |')
console.log('|---:|---:|---:|---:|')
for (const n of COUNTS) {
  const r = await measure(n)
  rows.push(r)
  console.log(`| ${n} | ${r.transfersPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} |`)
}
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`)
  console.log(`wrote ${values.json}`)
}
