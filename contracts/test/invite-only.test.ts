import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Wallet, parseEther } from 'ethers'
import { ChainError, ChannelClient } from '../../core/chain/index.js'
import { DEFAULT_PARAMS, assertRevert, randomPeerKey, useDevnet } from './fixture.js'

describe('invite-only channels (the creator chooses the members)', () => {
  const devnet = useDevnet({ accounts: 4 })
  const wallet = (i: number): Wallet => new Wallet(devnet().keys[i]!, devnet().provider)

  it('lets the invited accounts join and refuses anyone else with the reason', async () => {
    const [creator, friend, stranger] = [wallet(0), wallet(1), wallet(2)]
    const channel = await ChannelClient.deploy(creator, { ...DEFAULT_PARAMS, invited: [creator.address, friend.address] })
    await channel.as(creator).join(randomPeerKey(), parseEther('1'))
    await channel.as(friend).join(randomPeerKey(), parseEther('1'))
    await assert.rejects(channel.as(stranger).join(randomPeerKey(), parseEther('1')), (err: ChainError) => {
      assert.equal(err.code, 'NotInvited')
      assert.equal(err.message, `${stranger.address} is not among the members this channel's creator invited`)
      return true
    })
    assert.deepEqual((await channel.members()).map((m) => m.account), [creator.address, friend.address])
  })

  it('without invitations anyone may join', async () => {
    const channel = await ChannelClient.deploy(wallet(0), DEFAULT_PARAMS)
    await channel.as(wallet(3)).join(randomPeerKey(), parseEther('1'))
    assert.equal((await channel.members()).length, 1)
  })

  it('refuses more invitations than members a channel can hold', async () => {
    const many = Array.from({ length: 65 }, () => Wallet.createRandom().address)
    await assertRevert(ChannelClient.deploy(wallet(0), { ...DEFAULT_PARAMS, invited: many }), 'ParamOutOfRange')
  })
})
