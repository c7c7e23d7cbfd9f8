// The channel view's gas figure (issue 11, hole 10) against the chain itself: two app cores on anvil and a local
// DHT join, checkpoint and deposit; the figure Alice's view shows equals the fees of every transaction her account
// sent to the channel contract, found by walking every block since the deployment (not from the channel's events,
// which the app reads). A transaction that reverted costs gas too and is counted; each transaction once; receipts of
// settled blocks are kept in the data directory and not asked for again after a restart.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parseEther, Wallet, type JsonRpcProvider } from 'ethers'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { useDevnet } from '../../contracts/test/fixture.js'
import { channelInterface, ChannelClient } from '../chain/index.js'
import type { Hex } from '../protocol/types.js'
import { AppCore } from './app-core.js'
import { ChannelHistory, REORG_DEPTH } from './channel-history.js'
import { GasLedger, providerReceipts, type ReceiptSource } from './gas-spent.js'
import type { ChannelView } from './node-api.js'
import { RecordingWallet, SentTransactions } from './sent-transactions.js'
import { TxFeeCache } from './tx-fees.js'
import { appCoreOnDevnet } from '../testing/app-core-on-devnet.js'

const TIMING = { epochMs: 800, leaderTimeoutMs: 8000, chainPollMs: 100 }

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms
  let last: T | undefined
  for (;;) {
    const v = await read().catch(() => undefined)
    if (v !== undefined) last = v
    if (v !== undefined && ok(v)) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/**
 * Independently of the app: every transaction `account` sent to `channel`, found by walking the blocks from the
 * deployment to the head, and the fee its receipt gives (gas used times effective gas price).
 */
async function feesOnChain(provider: JsonRpcProvider, channel: string, account: string, fromBlock: number): Promise<{ feeWei: bigint; hashes: string[] }> {
  const head = await provider.getBlockNumber()
  let feeWei = 0n
  const hashes: string[] = []
  for (let n = fromBlock; n <= head; n++) {
    const block = await provider.getBlock(n, true)
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (tx.from.toLowerCase() !== account.toLowerCase() || tx.to?.toLowerCase() !== channel.toLowerCase()) continue
      const receipt = await provider.getTransactionReceipt(tx.hash)
      assert.ok(receipt, `no receipt for ${tx.hash}`)
      feeWei += receipt.gasUsed * receipt.gasPrice
      hashes.push(tx.hash)
    }
  }
  return { feeWei, hashes }
}

/** Resolves once no block has been mined for `quietMs`; fails if the chain never stops within `ms`. */
async function chainGoesQuiet(provider: JsonRpcProvider, quietMs: number, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  let head = await provider.getBlockNumber()
  let since = Date.now()
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`the chain kept moving without Bob (block ${head})`)
    await new Promise((r) => setTimeout(r, 100))
    const now = await provider.getBlockNumber()
    if (now !== head) [head, since] = [now, Date.now()]
  }
}

describe('the gas a channel has cost its member', () => {
  const devnet = useDevnet({ accounts: 4 })
  const dir = mkdtempSync(join(tmpdir(), 'gas-spent-'))
  let testnet: Testnet

  before(async () => {
    testnet = await createTestnet(3, { host: '127.0.0.1' })
  })
  after(async () => {
    await testnet?.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  it('the view shows the fees of every transaction the member sent to the channel, as the chain has them', async () => {
    const d = devnet()
    const core = (name: string, key: string): Promise<AppCore> => appCoreOnDevnet({ dir, name, key, devnet: d, testnet, timing: TIMING })
    const alice = await core('alice', d.keys[1]!)
    const bob = await core('bob', d.keys[2]!)
    let bobOpen = true
    try {
      const aliceAccount = new Wallet(d.keys[1]!).address
      const created = await alice.createChannel({ depositWei: parseEther('1').toString() })
      const channel = created.address
      await bob.joinChannel({ invite: created.invite, depositWei: parseEther('1').toString() })
      const client = ChannelClient.at(channel, d.provider)
      const deployedAt = await client.deploymentBlock()
      // A checkpoint Alice submitted as leader: leaders rotate every epoch, so one comes soon.
      await until(
        'a checkpoint submitted by Alice',
        async () => {
          for (const e of await client.events()) {
            if (e.type === 'CheckpointSubmitted' && (await d.provider.getTransaction(e.transactionHash))?.from === aliceAccount) return true
          }
          return false
        },
        (found) => found,
      )
      await alice.deposit(channel, parseEther('0.5').toString())
      // Bob stops: Alice alone cannot land a checkpoint (it needs both votes), so her transactions stop here.
      await bob.close()
      bobOpen = false
      // A transaction sent just before Bob stopped (a vote he gave, a submit under way) may still land: wait until
      // the chain has been quiet for several epochs, which it never is if Alice keeps sending without Bob.
      await chainGoesQuiet(d.provider, 4 * TIMING.epochMs)

      const expected = await feesOnChain(d.provider, channel, aliceAccount, deployedAt)
      assert.ok(expected.hashes.length >= 3, `join, a checkpoint and a deposit at least: ${expected.hashes.length}`)
      const view = await until('every receipt read', () => alice.channel(channel), (v: ChannelView) => v.gasSpent.unread === 0)
      assert.deepEqual(view.gasSpent, { feeWei: expected.feeWei.toString(), transactions: expected.hashes.length, unread: 0 })
      assert.ok(expected.feeWei > 0n)
    } finally {
      if (bobOpen) await bob.close()
      await alice.close()
    }
  })

  it('a reverted transaction counts, each transaction once, and settled receipts are not read again after a restart', async () => {
    const d = devnet()
    const sentFile = join(dir, 'sent.json')
    const feesFile = join(dir, 'fees.json')
    const sent = new SentTransactions(sentFile)
    const deployer = new Wallet(d.keys[0]!, d.provider)
    const channel = await ChannelClient.deploy(deployer, { responseWindow: 60n, staleAfter: 86_400n, txCap: 256 })
    const wallet = new RecordingWallet(d.keys[3]!, d.provider, (hash) => sent.record(hash))
    const member = channel.as(wallet)
    const joined = await member.join(`0x${'ab'.repeat(32)}`, parseEther('1'))
    // withdraw() with nothing owed reverts; a gas limit of our own skips the estimate that would refuse it before
    // sending, as a race on a busy chain would (two members resolving one dispute: the second reverts).
    const reverting = await wallet.sendTransaction({ to: channel.address, data: channelInterface.encodeFunctionData('withdraw'), gasLimit: 100_000 })
    const failed = await d.provider.getTransactionReceipt(reverting.hash)
    assert.equal(failed?.status, 0, 'the withdraw reverted')
    assert.deepEqual(sent.all().map((s) => s.hash).sort(), [joined.hash, reverting.hash].map((h) => h.toLowerCase()).sort())

    const counting = (inner: ReceiptSource): { source: ReceiptSource; asked: Hex[] } => {
      const asked: Hex[] = []
      return { asked, source: { receipt: (h) => (asked.push(h), inner.receipt(h)), known: (h) => inner.known(h) } }
    }
    const first = counting(providerReceipts(d.provider))
    const ledger = new GasLedger(wallet.address, new ChannelHistory(channel), sent, new TxFeeCache(feesFile), first.source)
    const expected = await feesOnChain(d.provider, channel.address, wallet.address, await channel.deploymentBlock())
    assert.equal(expected.hashes.length, 2)
    assert.deepEqual(await ledger.spent(), { feeWei: expected.feeWei, transactions: 2, unread: 0 })
    assert.equal(new Set(first.asked).size, first.asked.length, 'a receipt was read twice')

    // Once settled, the receipts are kept on disk and the sent record is emptied; a restarted node reads none again.
    await d.provider.send('anvil_mine', [`0x${(REORG_DEPTH + 1).toString(16)}`])
    assert.deepEqual(await ledger.spent(), { feeWei: expected.feeWei, transactions: 2, unread: 0 })
    assert.deepEqual(new SentTransactions(sentFile).all(), [], 'settled transactions left in the sent record')
    const again = counting(providerReceipts(d.provider))
    const restarted = new GasLedger(wallet.address, new ChannelHistory(channel), new SentTransactions(sentFile), new TxFeeCache(feesFile), again.source)
    assert.deepEqual(await restarted.spent(), { feeWei: expected.feeWei, transactions: 2, unread: 0 })
    assert.deepEqual(again.asked, [], 'receipts of settled blocks were read again')
  })
})
