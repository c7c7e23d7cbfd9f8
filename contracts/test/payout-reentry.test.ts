// Payouts to hostile members: a member account running code (an EIP-7702 delegation, installed here with
// anvil_setCode) that re-enters the channel on payment, and one that refuses payment. Neither gets paid twice,
// neither blocks a checkpoint, and the contract's ether always equals what it owes.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Contract, ContractFactory, Wallet, concat, parseEther } from 'ethers'
import * as reentrant from './generated/ReentrantPayee.js'
import * as refusing from './generated/RefusingPayee.js'
import { channelInterface } from '../../core/chain/index.js'
import { openChannel, plainCheckpoint, useDevnet, assertRevert } from './fixture.js'

const E = (n: string): bigint => parseEther(n)

describe('payout to a hostile member', () => {
  const devnet = useDevnet()

  /** Deploys `code` and delegates `account` to it (EIP-7702 designator 0xef0100 ++ address). */
  async function delegate(account: string, artifact: { abi: readonly unknown[]; bytecode: string }, deployer: Wallet) {
    const impl = await new ContractFactory(artifact.abi as never, artifact.bytecode, deployer).deploy()
    await impl.waitForDeployment()
    await devnet().provider.send('anvil_setCode', [account, concat(['0xef0100', await impl.getAddress()])])
    return new Contract(account, artifact.abi as never, devnet().provider)
  }

  it('re-entry from the payee during a pushed exit payout and during withdraw is refused; each is paid once', async () => {
    const f = await openChannel(devnet(), { members: 3 })
    const provider = devnet().provider
    const cp1 = await f.checkpointDeposits()

    const attacker = f.member(2)
    const payee = await delegate(attacker.address, reentrant, f.member(0).wallet)
    const before = await provider.getBalance(attacker.address)
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: 1, nextLeader: 0, exitMask: 1n << 2n })
    await f.as(1).submitCheckpoint(cp2, f.sign(cp2))

    assert.equal(await provider.getBalance(attacker.address), before + E('10'), 'paid exactly once')
    assert.equal(await payee.getFunction('reentryAttempts')(), 1n, 'the payee did try to re-enter')
    assert.equal(await payee.getFunction('reentrySuccesses')(), 0n)
    assert.equal(
      await payee.getFunction('lastReentryError')(),
      channelInterface.getError('ReentrancyGuardReentrantCall')?.selector,
    )
    assert.equal(await provider.getBalance(f.channel.address), E('20'))
    assert.equal(await f.channel.owed(attacker.address), 0n)
  })

  it('a payee that refuses payment cannot block the checkpoint; it is credited and withdraws later, once', async () => {
    const f = await openChannel(devnet(), { members: 3 })
    const provider = devnet().provider
    const cp1 = await f.checkpointDeposits()

    const stubborn = f.member(2)
    await delegate(stubborn.address, refusing, f.member(0).wallet)
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: 1, nextLeader: 0, exitMask: 1n << 2n })
    const r = await f.as(1).submitCheckpoint(cp2, f.sign(cp2))
    assert.ok(r.events.some((e) => e.type === 'PaymentDeferred' && e.amount === E('10')))
    assert.equal(await f.channel.owed(stubborn.address), E('10'))
    assert.equal(await provider.getBalance(f.channel.address), E('30'), 'still held for the member')

    // While the account refuses ether, withdrawing fails and nothing is lost.
    await assertRevert(f.as(2).withdraw(), 'PaymentFailed')
    assert.equal(await f.channel.owed(stubborn.address), E('10'))

    // The member then re-enters through withdraw itself: refused, paid once.
    const payee = await delegate(stubborn.address, reentrant, f.member(0).wallet)
    // The account's storage outlives delegations (the first test used it too): compare with what it held.
    const received = (await payee.getFunction('received')()) as bigint
    const attempts = (await payee.getFunction('reentryAttempts')()) as bigint
    const w = await f.as(2).withdraw()
    assert.ok(w.events.some((e) => e.type === 'Withdrawn' && e.amount === E('10')))
    assert.equal(await payee.getFunction('received')(), received + E('10'))
    assert.equal(await payee.getFunction('reentryAttempts')(), attempts + 1n)
    assert.equal(await payee.getFunction('reentrySuccesses')(), 0n)
    assert.equal(await f.channel.owed(stubborn.address), 0n)
    assert.equal(await provider.getBalance(f.channel.address), E('20'))
    await assertRevert(f.as(2).withdraw(), 'NothingOwed')
  })
})
