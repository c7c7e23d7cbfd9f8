// The app's core: one account's keys (vault), its network, and a ChannelNode per channel it is in, behind the
// NodeApi. Runs in Electron's utility process and in `node --ui`; knows nothing of either. What it must remember
// (selected account, network, channels) is in settings.json in the data directory, written atomically.
import { EventEmitter } from 'node:events'
import { existsSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { JsonRpcProvider, Wallet, getAddress, parseEther } from 'ethers'
import { z } from 'zod'
import {
  CHANNEL_LIMITS,
  ChainError,
  ChannelClient,
  chainProvider,
  readChannelSettings,
  type ChannelSettings,
  type CheckpointEvent,
  type NetworkKind,
} from '../chain/index.js'
import { TransferRejected, type Timing } from '../consensus/participant.js'
import type { Bootstrap } from '../net/channel-swarm.js'
import { AccountVault, FileVault, KeytarStore, VaultError, writeFileAtomic, type SecretStore } from '../vault/index.js'
import { errorMessage } from '../util/error-message.js'
import { ChannelFeed, type FeedEvent } from './channel-feed.js'
import { ChannelNode } from './channel-node.js'
import { ensureDataDir } from './data-dir.js'
import { liveView, transferView } from './live-view.js'
import {
  addressSchema,
  ApiCallError,
  networkChoiceSchema,
  type AppStatus,
  type ChannelSettingsView,
  type ChannelSummary,
  type ChannelView,
  type NetworkView,
  type NodeApi,
  type NodeEvent,
  type TransferView,
} from './node-api.js'

export const KEYCHAIN_SERVICE = 'Offchain Channels'

/** A chain and a DHT the app can use: the sandbox's (local) or a real network's. */
export interface Network {
  kind: NetworkKind
  rpcUrl: string
  chainId: bigint
  bootstrap: Bootstrap
  timing: Timing
}

export interface AppCoreOptions {
  dataDir: string
  /** The local sandbox (devnet + DHT); `useNetwork({ kind: 'sandbox' })` picks it. */
  sandbox?: () => Promise<Network>
  /** Overrides the keychain (tests; a store that is always there). */
  secretStore?: SecretStore
  log?: (line: string) => void
}

interface Running {
  address: string
  state: ChannelSummary['state']
  error?: string
  /** Why it failed to start, as thrown (its code reaches the UI). */
  failure?: unknown
  node?: ChannelNode
  /** Its changes, pushed to the UI as they happen. */
  feed?: ChannelFeed
}

/** What the app remembers in settings.json; channel addresses are kept per chain id. */
const SETTINGS = z.object({
  accounts: z.array(addressSchema),
  account: addressSchema.optional(),
  network: networkChoiceSchema.optional(),
  channels: z.record(z.string().regex(/^\d+$/), z.array(addressSchema)),
})
type Settings = z.infer<typeof SETTINGS>

/** A public network: an epoch lasts an hour (a checkpoint costs gas), and one in which nothing happened stays off chain. */
const REAL_TIMING: Timing = { epochMs: 3_600_000, leaderTimeoutMs: 120_000, chainPollMs: 2_000, skipIdleEpochs: true }
/**
 * What the app deploys. The transfer cap is the contract's most (MAX_TX_CAP): a dispute must carry a member's list.
 * A majority's checkpoint waits a day for an absent member on a public network (like Lightning's to_self_delay),
 * half a minute on the sandbox. A seat costs at least 0.001 ether, so a stranger cannot join for free and vote.
 */
const CHANNEL_PARAMS = { responseWindow: 300n, staleAfter: 7n * 86_400n, txCap: CHANNEL_LIMITS.maxTxCap, minDeposit: 10n ** 15n }
const CHALLENGE_WINDOW: Record<NetworkKind, bigint> = { rpc: 86_400n, sandbox: 30n }

export function inviteFor(chainId: bigint, channel: string): string {
  return `offchain:${chainId}:${getAddress(channel)}`
}

export function parseInvite(invite: string): { chainId: bigint; channel: string } {
  const m = /^offchain:(\d{1,20}):(0x[0-9a-fA-F]{40})$/.exec(invite.trim())
  if (!m) throw new ApiCallError('BAD_INVITE', 'That is not an invite: it looks like offchain:<chain id>:<channel address>.')
  return { chainId: BigInt(m[1]!), channel: getAddress(m[2]!) }
}

export class AppCore extends EventEmitter<{ event: [NodeEvent] }> implements NodeApi {
  private store: SecretStore | undefined
  private vault: AccountVault | undefined
  private network: Network | undefined
  private provider: JsonRpcProvider | undefined
  private readonly channels = new Map<string, Running>()
  private readonly settingsPath: string
  private settings: Settings
  private readonly log: (line: string) => void
  private readonly pendingChange = new Set<string>()
  private changeTimer: NodeJS.Timeout | undefined
  /**
   * The last channel-live event's seq, across channels. It starts from the start time in microseconds, so the events
   * of a restarted core (Electron restarts a core process that died) still come after those a view already has.
   */
  private liveSeq = Date.now() * 1000
  private unlocking: Promise<unknown> | undefined

  private constructor(private readonly opts: AppCoreOptions) {
    super()
    this.log = opts.log ?? (() => {})
    ensureDataDir(opts.dataDir)
    this.settingsPath = join(opts.dataDir, 'settings.json')
    this.settings = this.readSettings()
  }

  /** Opens the keychain (or waits for the file vault's passphrase), then resumes the last network and channels. */
  static async start(opts: AppCoreOptions): Promise<AppCore> {
    const core = new AppCore(opts)
    if (opts.secretStore) core.useStore(opts.secretStore)
    else {
      try {
        core.useStore(await KeytarStore.open(KEYCHAIN_SERVICE))
      } catch (err) {
        if (!(err instanceof VaultError)) throw err
        core.log(`no OS keychain (${err.code}); keys go to a passphrase-protected vault file`)
      }
    }
    if (core.settings.network) await core.useNetwork(core.settings.network).catch((e: unknown) => core.log(`network: ${String(e)}`))
    return core
  }

  // ------------------------------------------------------------------ keys

  private get vaultPath(): string {
    return join(this.opts.dataDir, 'keys.vault')
  }

  private useStore(store: SecretStore): void {
    this.store = store
    this.vault = new AccountVault(store)
  }

  private requireVault(): AccountVault {
    if (!this.vault) throw new VaultError('KEYCHAIN_UNAVAILABLE', 'Unlock the key vault with its passphrase first.')
    return this.vault
  }

  async unlockVault(passphrase: string): Promise<void> {
    if (this.store) return
    // One at a time (the key derivation takes about a second, off the event loop): two tabs creating a vault at
    // once must not make two.
    const previous = this.unlocking
    const attempt = (async (): Promise<FileVault | undefined> => {
      await previous?.catch(() => undefined)
      if (this.store) return undefined
      return existsSync(this.vaultPath) ? FileVault.open(this.vaultPath, passphrase) : FileVault.create(this.vaultPath, passphrase)
    })()
    this.unlocking = attempt
    const vault = await attempt
    if (!vault) return
    this.useStore(vault)
    this.changed()
    if (this.settings.account && this.network) await this.startChannels()
  }

  async createAccount(): Promise<string> {
    return this.adopt(await this.requireVault().create())
  }

  async importPrivateKey(key: string): Promise<string> {
    return this.adopt(await this.requireVault().importPrivateKey(key))
  }

  async importKeystore(json: string, password: string): Promise<string> {
    return this.adopt(await this.requireVault().importKeystore(json, password))
  }

  async exportKeystore(password: string): Promise<string> {
    return this.requireVault().exportKeystore(this.requireAccount(), password)
  }

  private async adopt(address: string): Promise<string> {
    if (!this.settings.accounts.includes(address)) this.settings.accounts.push(address)
    this.saveSettings()
    await this.selectAccount(address)
    return address
  }

  async selectAccount(address: string): Promise<void> {
    const account = getAddress(address)
    if (!this.settings.accounts.includes(account)) throw new VaultError('ACCOUNT_NOT_FOUND', `Account ${account} is not in this app.`)
    if (this.settings.account === account && this.channels.size > 0) return
    await this.stopChannels()
    this.settings.account = account
    this.saveSettings()
    this.changed()
    if (this.network) await this.startChannels()
  }

  private requireAccount(): string {
    if (!this.settings.account) throw new ApiCallError('NO_ACCOUNT', 'Create or import an account first.')
    return this.settings.account
  }

  // ------------------------------------------------------------------ network

  async useNetwork(choice: { kind: 'sandbox' } | { kind: 'rpc'; rpcUrl: string }): Promise<NetworkView> {
    let network: Network
    if (choice.kind === 'sandbox') {
      if (!this.opts.sandbox) throw new ApiCallError('NO_SANDBOX', 'This app was started without a sandbox network.')
      this.progress('network', 'Starting the local sandbox chain and DHT')
      network = await this.opts.sandbox()
    } else {
      this.progress('network', `Connecting to ${new URL(choice.rpcUrl).host}`)
      const probe = new JsonRpcProvider(choice.rpcUrl, undefined, { staticNetwork: false })
      try {
        const { chainId } = await Promise.race([
          probe.getNetwork(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer in 10 s')), 10_000)),
        ])
        network = { kind: 'rpc', rpcUrl: choice.rpcUrl, chainId, bootstrap: undefined, timing: REAL_TIMING }
      } catch (err) {
        throw new ChainError('RPC_UNREACHABLE', `No Ethereum node answers at ${choice.rpcUrl} (${errorMessage(err)}).`)
      } finally {
        probe.destroy()
      }
    }
    await this.stopChannels()
    this.provider?.destroy()
    this.network = network
    this.provider = chainProvider(network.kind, network.rpcUrl, network.chainId)
    this.settings.network = choice
    this.saveSettings()
    this.progress('network', 'Connected', true)
    this.changed()
    if (this.settings.account && this.vault) await this.startChannels()
    return this.networkView()!
  }

  private networkView(): NetworkView | undefined {
    const n = this.network
    return n && { kind: n.kind, rpcUrl: n.rpcUrl, chainId: n.chainId.toString() }
  }

  private requireNetwork(): Network {
    if (!this.network || !this.provider) throw new ApiCallError('NO_NETWORK', 'Pick a network first.')
    return this.network
  }

  async sandboxFund(): Promise<string> {
    const network = this.requireNetwork()
    if (network.kind !== 'sandbox') throw new ApiCallError('NOT_SANDBOX', 'Test ether exists only on the sandbox network.')
    const account = this.requireAccount()
    const balance = (await this.provider!.getBalance(account)) + parseEther('100')
    await this.provider!.send('anvil_setBalance', [account, `0x${balance.toString(16)}`])
    this.changed()
    return balance.toString()
  }

  private async wallet(): Promise<Wallet> {
    this.requireNetwork()
    return (await this.requireVault().signer(this.requireAccount())).connect(this.provider!)
  }

  // ------------------------------------------------------------------ channels

  private channelList(): string[] {
    const id = this.requireNetwork().chainId.toString()
    return (this.settings.channels[id] ??= [])
  }

  /** Deploys a channel and joins it. With `members`, only they (and the creator) may join; else anyone invited. */
  async createChannel({ depositWei, members }: { depositWei: string; members?: string[] | undefined }): Promise<ChannelSummary> {
    const wallet = await this.wallet()
    const invited = members && members.length > 0 ? [...new Set([wallet.address, ...members.map((m) => getAddress(m))])] : []
    this.progress('create', 'Deploying the channel contract')
    const challengeWindow = CHALLENGE_WINDOW[this.network?.kind ?? 'rpc']
    const client = await ChannelClient.deploy(wallet, { ...CHANNEL_PARAMS, challengeWindow, invited })
    this.log(`deployed channel ${client.address}`)
    return this.enter(client.address, BigInt(depositWei), 'create')
  }

  async channelSettings(invite: string): Promise<ChannelSettingsView> {
    const { channel, settings } = await this.checkInvite(invite)
    return {
      address: channel,
      chainId: this.requireNetwork().chainId.toString(),
      codeVerified: true,
      staleAfterSeconds: Number(settings.staleAfter),
      responseWindowSeconds: Number(settings.responseWindow),
      challengeWindowSeconds: Number(settings.challengeWindow),
      txCap: settings.txCap,
      minDepositWei: settings.minDeposit.toString(),
      members: settings.members,
      maxMembers: settings.maxMembers,
      inviteOnly: settings.inviteOnly,
      mayJoin: settings.mayJoin ?? false,
      closed: settings.closed,
    }
  }

  async joinChannel({ invite, depositWei }: { invite: string; depositWei: string }): Promise<ChannelSummary> {
    // Before anything is remembered or sent: the code at the address must be the channel contract's.
    const { channel } = await this.checkInvite(invite)
    return this.enter(channel, BigInt(depositWei), 'join')
  }

  /** The invite's channel, on this network, with this app's contract code and settings its constructor allows. */
  private async checkInvite(invite: string): Promise<{ channel: string; settings: ChannelSettings }> {
    const { chainId, channel } = parseInvite(invite)
    const network = this.requireNetwork()
    if (chainId !== network.chainId) {
      throw new ApiCallError('WRONG_NETWORK', `That invite is for chain ${chainId}; this app is on chain ${network.chainId}.`)
    }
    this.progress('check', 'Checking the channel contract and its settings')
    const settings = await readChannelSettings(this.provider!, channel, this.settings.account)
    this.progress('check', 'The channel contract checked out', true)
    return { channel, settings }
  }

  private async enter(channel: string, deposit: bigint, operation: string): Promise<ChannelSummary> {
    const list = this.channelList()
    if (this.channels.get(channel)?.state === 'running') throw new ApiCallError('ALREADY_MEMBER', 'You are already in that channel.')
    // Remembered before the deposit goes out: a crash after the join transaction must not lose the channel.
    if (!list.includes(channel)) list.push(channel)
    this.saveSettings()
    this.progress(operation, 'Joining with your deposit and connecting to the other members')
    await this.startChannel(channel, deposit)
    const running = this.channels.get(channel)
    if (running?.state === 'failed') {
      this.channels.delete(channel)
      const account = this.requireAccount()
      const member = await ChannelClient.at(channel, this.provider!).members()
        .then((ms) => ms.some((m) => m.account === account))
        .catch(() => true) // unknown: keep it listed rather than risk forgetting a deposit
      if (!member) {
        list.splice(list.indexOf(channel), 1)
        this.saveSettings()
      }
      throw running.failure ?? new ApiCallError('JOIN_FAILED', running.error ?? 'joining failed')
    }
    this.progress(operation, 'Ready', true)
    return this.summary(channel)
  }

  private async startChannels(): Promise<void> {
    await Promise.all(this.channelList().map((c) => this.startChannel(c)))
  }

  private async startChannel(address: string, joinWith?: bigint): Promise<void> {
    const network = this.requireNetwork()
    const account = this.requireAccount()
    const vault = this.requireVault()
    const running: Running = { address, state: 'starting' }
    this.channels.set(address, running)
    this.changed()
    try {
      const node = await ChannelNode.start({
        rpcUrl: network.rpcUrl,
        chainId: network.chainId,
        channel: address,
        privateKey: await vault.privateKey(account),
        peerKey: await vault.peerKey(account, network.chainId, address),
        replacePeerKey: () => vault.replacePeerKey(account, network.chainId, address),
        dataDir: join(this.opts.dataDir, 'channels', network.chainId.toString(), address, account),
        bootstrap: network.bootstrap,
        timing: network.timing,
        networkKind: network.kind,
        ...(joinWith !== undefined ? { joinWith } : {}),
        log: (line) => this.log(`[${address.slice(0, 8)}] ${line}`),
      })
      if (this.channels.get(address) !== running) return void (await node.close())
      running.node = node
      running.state = 'running'
      // Payments, epochs and leaders change what the node holds: pushed as they happen. A checkpoint or a dispute
      // also changes what a view reads from the chain: it reads it again.
      const publish = (e: FeedEvent): void => void this.emit('event', { type: 'channel-live', seq: ++this.liveSeq, ...e })
      running.feed = new ChannelFeed(address, node, publish, (line) => this.log(`[${address.slice(0, 8)}] ${line}`))
      const onChainChange = (): void => this.changed(address)
      for (const e of ['checkpoint', 'dispute'] as const) node.events.on(e, onChainChange)
      node.events.on('exited', () => {
        running.state = 'exited'
        running.feed?.close()
        this.changed(address)
      })
    } catch (err) {
      running.state = 'failed'
      running.error = errorMessage(err)
      running.failure = err
      this.log(`channel ${address} failed to start: ${running.error}`)
    }
    this.changed(address)
  }

  private async stopChannels(): Promise<void> {
    const all = [...this.channels.values()]
    this.channels.clear()
    for (const r of all) r.feed?.close()
    await Promise.all(all.map((r) => r.node?.close().catch(() => {})))
  }

  private node(address: string): ChannelNode {
    const node = this.channels.get(getAddress(address))?.node
    if (!node) throw new ApiCallError('NO_CHANNEL', `Channel ${address} is not running here.`)
    return node
  }

  private summary(address: string): ChannelSummary {
    const r = this.channels.get(address)
    const base: ChannelSummary = {
      address,
      invite: inviteFor(this.requireNetwork().chainId, address),
      state: r?.state ?? 'starting',
      ...(r?.error ? { error: r.error } : {}),
    }
    if (!r?.node) return base
    const s = r.node.state()
    const mine = s.members[s.me]
    return {
      ...base,
      me: s.me,
      members: s.members.length,
      balanceWei: (mine?.balance ?? 0n).toString(),
      pendingDepositWei: (mine?.pendingDeposit ?? 0n).toString(),
      liveSeq: this.liveSeq,
    }
  }

  async deposit(channel: string, wei: string): Promise<string> {
    this.progress('deposit', 'Sending the deposit')
    const r = await this.node(channel).deposit(BigInt(wei))
    this.progress('deposit', 'Deposited; the next checkpoint includes it', true)
    this.channels.get(getAddress(channel))?.feed?.touched() // shown pending now
    this.changed(getAddress(channel))
    return r.hash
  }

  async send(channel: string, to: number, wei: string): Promise<TransferView> {
    const node = this.node(channel)
    const record = await node.send(to, BigInt(wei))
    return transferView(record, node.changedAtOf(record.transfer.id))
  }

  async exit(channel: string): Promise<void> {
    this.node(channel).requestExit()
  }

  async withdraw(channel: string): Promise<string> {
    return (await this.node(channel).withdraw()).hash
  }

  async closeChannel(channel: string): Promise<string> {
    this.progress('close', 'Closing the channel on chain')
    const r = await this.node(channel).closeOnChain()
    this.progress('close', 'Closed: everyone is paid out from the last checkpoint', true)
    this.changed(getAddress(channel))
    return r.hash
  }

  async dismissResumed(channel: string, ids: string[]): Promise<void> {
    this.node(channel).dismissResumed(ids)
    this.changed(getAddress(channel))
  }

  async channel(address: string): Promise<ChannelView> {
    const channel = getAddress(address)
    const node = this.node(channel)
    // What the node holds, all taken now, with the seq of the last event it already counts: the chain reads below
    // take a while, and events sent meanwhile are newer than this.
    const liveSeq = this.liveSeq
    const live = liveView(node)
    const me = node.index
    const transfers = node.history().slice(-200).reverse().map((r) => transferView(r, node.changedAtOf(r.transfer.id)))
    const resumed = node.resumedPayments()
    const [checkpoints, { dispute, closableAt, closed }, owed, gas] = await Promise.all([
      node.checkpoints(),
      node.disputeAndStaleness(),
      node.owed(),
      node.gasSpent(),
    ])
    const chainId = this.requireNetwork().chainId
    return {
      ...live,
      address: channel,
      invite: inviteFor(chainId, channel),
      chainId: chainId.toString(),
      me,
      liveSeq,
      transfers,
      checkpoints: checkpoints.slice(-50).reverse().map(checkpointView),
      dispute: dispute && {
        epoch: dispute.epoch.toString(),
        challenger: dispute.challenger,
        leader: dispute.leader,
        deadline: Number(dispute.deadline),
        responded: dispute.leaderRight || dispute.challengerCount === 0,
      },
      owedWei: owed.toString(),
      closableAt,
      closed,
      gasSpent: { feeWei: gas.feeWei.toString(), transactions: gas.transactions, unread: gas.unread },
      resumed: resumed.map((r) => ({
        id: r.id,
        counterparty: r.to,
        amountWei: r.amount.toString(),
        status: r.status,
        ...(r.reason ? { reason: r.reason } : {}),
      })),
      exited: this.channels.get(channel)?.state === 'exited' || (live.members[me]?.exited ?? false),
    }
  }

  // ------------------------------------------------------------------ status

  async status(): Promise<AppStatus> {
    const account = this.settings.account
    let walletWei: string | undefined
    if (account && this.provider) walletWei = (await this.provider.getBalance(account).catch(() => undefined))?.toString()
    // Every running or starting channel is listed (a channel is remembered before it starts).
    const channels = this.network ? this.channelList().map((c) => this.summary(c)) : []
    return {
      vault: {
        kind: this.store?.kind ?? 'file',
        unlocked: this.store !== undefined,
        exists: this.store?.kind === 'keychain' || existsSync(this.vaultPath),
      },
      accounts: [...this.settings.accounts],
      account,
      network: this.networkView(),
      walletWei,
      channels,
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.changeTimer)
    await this.stopChannels()
    this.provider?.destroy()
    if (this.store instanceof FileVault) this.store.close()
  }

  // ------------------------------------------------------------------ plumbing

  private progress(operation: string, step: string, done = false): void {
    this.emit('event', { type: 'progress', operation, step, done })
  }

  /** Coalesces change notices (a busy channel changes thousands of times a second) into at most 5 a second. */
  private changed(channel?: string): void {
    this.pendingChange.add(channel ?? '')
    this.changeTimer ??= setTimeout(() => {
      this.changeTimer = undefined
      for (const c of this.pendingChange) this.emit('event', c ? { type: 'channel', channel: c } : { type: 'status' })
      this.pendingChange.clear()
    }, 200)
  }

  private readSettings(): Settings {
    const fresh: Settings = { accounts: [], channels: {} }
    if (!existsSync(this.settingsPath)) return fresh
    try {
      return SETTINGS.parse(JSON.parse(readFileSync(this.settingsPath, 'utf8')))
    } catch {
      // A damaged settings file is kept aside, not lost: keys are in the vault, channels can be joined again.
      renameSync(this.settingsPath, `${this.settingsPath}.damaged-${Date.now()}`)
      this.log('settings.json was damaged; kept it aside and started with fresh settings')
      return fresh
    }
  }

  private saveSettings(): void {
    writeFileAtomic(this.settingsPath, `${JSON.stringify(this.settings, null, 2)}\n`)
  }
}

function checkpointView(c: CheckpointEvent): ChannelView['checkpoints'][number] {
  return {
    epoch: c.epoch.toString(),
    leader: c.leader,
    nextLeader: c.nextLeader,
    txCount: c.txCount,
    transaction: c.transactionHash,
    block: c.blockNumber,
  }
}

/** Errors as they cross to the UI: our typed codes kept, anything else INTERNAL with its message. */
export function toApiError(err: unknown): { code: string; message: string } {
  if (err instanceof VaultError || err instanceof ChainError || err instanceof ApiCallError) return { code: err.code, message: err.message }
  if (err instanceof TransferRejected) return { code: `REJECTED_${err.code}`, message: `The payment was refused: ${err.code}.` }
  return { code: 'INTERNAL', message: errorMessage(err) }
}
