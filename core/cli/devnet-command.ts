// `devnet`: the embedded local chain with a live channel on it. Starts anvil on 127.0.0.1, deploys a channel, has
// the first dev accounts join, lands the first checkpoint signed by all of them, prints where everything is, and
// keeps the chain up until Ctrl-C (or exits at once with --once). The peer-to-peer sandbox will build on this.
import { Wallet, formatEther, hexlify, parseEther, randomBytes } from 'ethers'
import { ChannelClient, startDevnet, type ChannelParams } from '../chain/index.js'
import { ChannelDigests, merkleRoot, signDigest, type Checkpoint, type Hex } from '../protocol/index.js'

export interface DevnetCommandOptions {
  members: number
  depositEth: string
  once: boolean
  log: (line: string) => void
}

const PARAMS: ChannelParams = { responseWindow: 600n, staleAfter: 86_400n, txCap: 256 }

export async function runDevnetCommand(opts: DevnetCommandOptions): Promise<void> {
  if (!Number.isInteger(opts.members) || opts.members < 2 || opts.members > 64) {
    throw new RangeError(`--members must be a whole number from 2 to 64, not ${opts.members}`)
  }
  const deposit = parseEther(opts.depositEth)
  const log = opts.log
  log('starting the local chain (anvil) on 127.0.0.1 ...')
  const devnet = await startDevnet({ accounts: opts.members + 2 })
  try {
    const wallets = devnet.keys.slice(0, opts.members).map((k) => new Wallet(k, devnet.provider))
    const first = wallets[0] as Wallet
    const channel = await ChannelClient.deploy(first, PARAMS)
    log(`chain ${devnet.rpcUrl} (chain id ${devnet.chainId}), channel ${channel.address}`)
    for (const [i, w] of wallets.entries()) {
      await channel.as(w).join(hexlify(randomBytes(32)) as Hex, deposit)
      log(`member ${i} ${w.address} joined with ${formatEther(deposit)} ETH`)
    }

    // Epoch 1 closes with a checkpoint every member signs, crediting the deposits off-chain.
    const digests = new ChannelDigests(await channel.domain())
    const deposited = wallets.map(() => deposit)
    const cp: Checkpoint = {
      epoch: 1n,
      leader: 0,
      nextLeader: 1,
      balances: [...deposited],
      deposited,
      exitMask: 0n,
      txRoot: merkleRoot([]),
      txCount: 0,
    }
    const digest = digests.checkpoint(cp)
    const r = await channel.submitCheckpoint(cp, wallets.map((w) => signDigest(w.signingKey, digest)))
    const status = await channel.status()
    log(`checkpoint 1 landed in block ${r.blockNumber} (tx ${r.hash}, ${r.gasUsed} gas), signed by all ${wallets.length} members`)
    log(`epoch ${status.runningEpoch} is running under member ${status.leader}`)
    if (opts.once) return
    log('the chain stays up for cast or a wallet; Ctrl-C stops it')
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
  } finally {
    await devnet.stop()
  }
}
