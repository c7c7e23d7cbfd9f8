// Joining trusted the address (issue 11, hole 9): the app sent its deposit to whatever contract an invite named.
// Now AppCore reads the invite's channel first: its code must be the channel contract's (else UNKNOWN_CONTRACT,
// and nothing is sent or remembered), and its settings come back for the join screen to show.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ContractFactory, Wallet, getBytes, hexlify, parseEther } from 'ethers'
import { randomPeerKey, useDevnet } from '../../contracts/test/fixture.js'
import * as refusing from '../../contracts/test/generated/RefusingPayee.js'
import { ChainError, ChannelClient } from '../chain/index.js'
import { FileVault } from '../vault/index.js'
import { AppCore, inviteFor } from './app-core.js'
import { SANDBOX_TIMING } from './sandbox-network.js'

describe('joining checks the contract before the deposit', () => {
  const devnet = useDevnet({ accounts: 3 })
  const dir = mkdtempSync(join(tmpdir(), 'join-checks-'))
  let core: AppCore
  let me: string
  after(async () => {
    await core?.close()
    rmSync(dir, { recursive: true, force: true })
  })
  before(async () => {
    const d = devnet()
    core = await AppCore.start({
      dataDir: join(dir, 'data'),
      secretStore: await FileVault.create(join(dir, 'keys.vault'), 'a passphrase', { preset: 'interactive' }),
      sandbox: async () => ({ kind: 'sandbox', rpcUrl: d.rpcUrl, chainId: d.chainId, bootstrap: undefined, timing: SANDBOX_TIMING }),
    })
    me = await core.importPrivateKey(d.keys[1]!)
    await core.useNetwork({ kind: 'sandbox' })
  })

  it('shows a channel\'s settings before joining', async () => {
    const creator = new Wallet(devnet().keys[0]!, devnet().provider)
    const channel = await ChannelClient.deploy(creator, {
      responseWindow: 300n,
      challengeWindow: 900n,
      staleAfter: 7n * 86_400n,
      txCap: 128,
      invited: [creator.address, me],
    })
    await channel.as(creator).join(randomPeerKey(), parseEther('1'))
    assert.deepEqual(await core.channelSettings(inviteFor(devnet().chainId, channel.address)), {
      address: channel.address,
      chainId: devnet().chainId.toString(),
      codeVerified: true,
      staleAfterSeconds: 7 * 86_400,
      responseWindowSeconds: 300,
      challengeWindowSeconds: 900,
      txCap: 128,
      minDepositWei: '1',
      members: 1,
      maxMembers: 64,
      inviteOnly: true,
      mayJoin: true,
      closed: false,
    })
  })

  it('refuses to join an address with other code or none, and sends nothing', async () => {
    const provider = devnet().provider
    const foreign = await (await new ContractFactory(refusing.abi, refusing.bytecode, new Wallet(devnet().keys[2]!, provider)).deploy()).getAddress()
    // A working copy of the channel with one byte of its metadata changed: it would take the deposit like a channel,
    // from code nobody compiled here.
    const real = await ChannelClient.deploy(new Wallet(devnet().keys[2]!, provider), { responseWindow: 300n, staleAfter: 86_400n, txCap: 8 })
    const code = getBytes(await provider.getCode(real.address))
    code[code.length - 20] = code[code.length - 20]! ^ 0xff
    const copy = Wallet.createRandom().address
    await provider.send('anvil_setCode', [copy, hexlify(code)])
    const balance = await provider.getBalance(me)
    const nonce = await provider.getTransactionCount(me)
    for (const address of [foreign, copy, Wallet.createRandom().address, new Wallet(devnet().keys[2]!).address]) {
      const invite = inviteFor(devnet().chainId, address)
      for (const call of [core.channelSettings(invite), core.joinChannel({ invite, depositWei: parseEther('1').toString() })]) {
        await assert.rejects(call, (err: unknown) => {
          assert.ok(err instanceof ChainError, `expected a ChainError, got ${String(err)}`)
          assert.equal(err.code, 'UNKNOWN_CONTRACT')
          assert.match(err.message, /nothing was sent/i)
          return true
        })
      }
    }
    assert.equal(await provider.getBalance(me), balance, 'the balance is unchanged')
    assert.equal(await provider.getTransactionCount(me), nonce, 'no transaction was sent')
    for (const address of [foreign, copy]) assert.equal(await provider.getBalance(address), 0n)
    assert.deepEqual((await core.status()).channels, [], 'no channel is remembered')
    assert.doesNotMatch(readFileSync(join(dir, 'data', 'settings.json'), 'utf8'), new RegExp(foreign.slice(2), 'i'))
  })
})
