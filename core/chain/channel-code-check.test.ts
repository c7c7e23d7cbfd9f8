// Joining trusted the address (issue 11, hole 9): the app sent its deposit to whatever the invite named. Now the
// code there must be the compiled channel contract (immutables masked), and the settings it reports must be ones
// its constructor allows. Against anvil: a real channel passes; another contract, our code with one byte changed,
// an account and an empty address are refused; our exact code planted with a never-ending stale-close delay (initcode
// of one's own skips the constructor) is refused for its settings.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ContractFactory, Wallet, getBytes, hexlify, toBeHex, zeroPadValue } from 'ethers'
import { useDevnet } from '../../contracts/test/fixture.js'
import * as refusing from '../../contracts/test/generated/RefusingPayee.js'
import { CHANNEL_CODE_HASH, ChainError, ChannelClient, maskedCodeHash, readChannelSettings, verifyChannelCode } from './index.js'
import { immutableRanges } from './generated/Channel.js'

const PARAMS = { responseWindow: 300n, challengeWindow: 600n, staleAfter: 86_407n, txCap: 200, minDeposit: 5n }

describe('joining checks the channel code and settings first', () => {
  const devnet = useDevnet({ accounts: 3 })
  const wallet = (i: number): Wallet => new Wallet(devnet().keys[i]!, devnet().provider)

  async function refusedAs(call: Promise<unknown>, code: string, words: RegExp): Promise<void> {
    await assert.rejects(call, (err: unknown) => {
      assert.ok(err instanceof ChainError, `expected a ChainError, got ${String(err)}`)
      assert.equal(err.code, code, err.message)
      assert.match(err.message, words)
      return true
    })
  }

  /** Puts `code` at a fresh address, as anyone can with initcode of their own. */
  async function plant(code: string): Promise<string> {
    const address = Wallet.createRandom().address
    await devnet().provider.send('anvil_setCode', [address, code])
    return address
  }

  it('a real channel passes, and its settings come back as deployed', async () => {
    const creator = wallet(0)
    const channel = await ChannelClient.deploy(creator, { ...PARAMS, invited: [creator.address] })
    await verifyChannelCode(devnet().provider, channel.address)
    const s = await readChannelSettings(devnet().provider, channel.address, wallet(1).address)
    assert.deepEqual(s, {
      address: channel.address,
      responseWindow: 300n,
      challengeWindow: 600n,
      staleAfter: 86_407n,
      txCap: 200,
      minDeposit: 5n,
      members: 0,
      maxMembers: 64,
      inviteOnly: true,
      mayJoin: false,
      closed: false,
    })
    assert.equal((await readChannelSettings(devnet().provider, channel.address, creator.address)).mayJoin, true)
    const open = await ChannelClient.deploy(creator, PARAMS)
    assert.equal((await readChannelSettings(devnet().provider, open.address, wallet(2).address)).mayJoin, true)
  })

  it('another contract at the address is refused', async () => {
    const other = await new ContractFactory(refusing.abi, refusing.bytecode, wallet(0)).deploy()
    await refusedAs(readChannelSettings(devnet().provider, await other.getAddress()), 'UNKNOWN_CONTRACT', /not this app's channel contract/)
  })

  it('the channel code with one byte changed outside the immutables is refused', async () => {
    const channel = await ChannelClient.deploy(wallet(0), PARAMS)
    const code = getBytes(await devnet().provider.getCode(channel.address))
    const inImmutable = (i: number): boolean => immutableRanges.some((r) => i >= r.start && i < r.start + r.length)
    let at = code.length - 200 // well before the metadata, in no immutable
    while (inImmutable(at)) at--
    code[at] = code[at]! ^ 0x01
    await refusedAs(verifyChannelCode(devnet().provider, await plant(hexlify(code))), 'UNKNOWN_CONTRACT', /code differs/)
    code[at] = code[at]! ^ 0x01
    assert.equal(maskedCodeHash(code), CHANNEL_CODE_HASH, 'the same code unchanged hashes as the compiled contract')
  })

  it('an account or an empty address is refused: there is no channel there', async () => {
    await refusedAs(verifyChannelCode(devnet().provider, wallet(1).address), 'UNKNOWN_CONTRACT', /no contract at/)
    await refusedAs(readChannelSettings(devnet().provider, Wallet.createRandom().address), 'UNKNOWN_CONTRACT', /no contract at/)
  })

  it('the real code planted with a stale-close delay of 2^64-1 passes the code check but not the settings check', async () => {
    const channel = await ChannelClient.deploy(wallet(0), PARAMS)
    const code = getBytes(await devnet().provider.getCode(channel.address))
    const stale = getBytes(zeroPadValue(toBeHex(PARAMS.staleAfter), 32))
    const forever = getBytes(zeroPadValue(toBeHex(2n ** 64n - 1n), 32))
    let replaced = 0
    for (const { start, length } of immutableRanges) {
      if (length === 32 && hexlify(code.slice(start, start + 32)) === hexlify(stale)) {
        code.set(forever, start)
        replaced++
      }
    }
    assert.ok(replaced > 0, 'staleAfter found among the immutables')
    const forged = await plant(hexlify(code))
    await verifyChannelCode(devnet().provider, forged) // the same code: masked immutables are not the code's
    await refusedAs(readChannelSettings(devnet().provider, forged), 'UNSAFE_SETTINGS', /stale-close delay \(s\) is 18446744073709551615/)
  })
})
