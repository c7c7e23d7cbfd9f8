// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {PositionalMerkle} from "./PositionalMerkle.sol";

/// @title Multi-party off-chain payment channel
/// @notice Members lock ether, pay each other off-chain, and bring here only joins, deposits, checkpoints signed by
/// every member, exits, disputes and the stale close. See DESIGN.md section 4.
contract Channel is EIP712, ReentrancyGuardTransient {
    uint256 public constant MAX_MEMBERS = 64;
    /// Gas handed to a payee on a pushed payout; a payee that needs more (or reverts) is credited for withdraw().
    uint256 public constant PAYOUT_GAS = 100_000;

    /// The constructor's bounds, so a joiner can rely on what any channel of this code lets its members do.
    /// A leader has at least this long to answer a challenge (short values serve local test chains)...
    uint64 public constant MIN_RESPONSE_WINDOW = 30 seconds;
    /// ... and a dispute holds the channel at most twice this long (the challenger's list in chunks, then the answer).
    uint64 public constant MAX_RESPONSE_WINDOW = 7 days;
    /// A majority's checkpoint waits at least this long for an absent member (seconds serve local test chains; the
    /// app deploys a day on a public network and shows every channel's window before a join).
    uint64 public constant MIN_CHALLENGE_WINDOW = 2 seconds;
    uint64 public constant MAX_CHALLENGE_WINDOW = 7 days;
    /// With no checkpoint for staleAfter, any member closes and everyone withdraws: at most a year, so money is
    /// never held for ever and `checkpointedAt + staleAfter` cannot overflow. It also exceeds challengeWindow plus two
    /// response windows, so a majority's checkpoint and a dispute over it (a list in chunks, then the answer) end
    /// before the close can overtake them.
    uint64 public constant MIN_STALE_AFTER = 1 hours;
    uint64 public constant MAX_STALE_AFTER = 365 days;
    /// The most transfers per member and epoch. A dispute's lists travel in chunks, each a transaction under the
    /// 16,777,216 per-transaction gas cap; what bounds the cap is the whole dispute: a leader answering a member at
    /// the cap spends about 52M gas over several transactions within its response window, a challenger about 73M
    /// (`npm run bench:gas`).
    uint32 public constant MAX_TX_CAP = 1024;

    bytes32 public constant TRANSFER_TYPEHASH =
        keccak256("Transfer(bytes16 id,uint64 epoch,address from,address to,uint256 amount)");
    bytes32 public constant RECEIPT_TYPEHASH = keccak256("Receipt(bytes32 transfer,uint64 epoch,uint32 seq)");
    bytes32 public constant CHECKPOINT_TYPEHASH = keccak256(
        "Checkpoint(uint64 epoch,uint32 leader,uint32 nextLeader,uint256[] balances,uint256[] deposited,uint256 exitMask,bytes32 txRoot,uint32 txCount)"
    );

    struct Transfer {
        bytes16 id;
        uint64 epoch;
        address from;
        address to;
        uint256 amount;
    }

    /// A receipted transfer as dispute evidence.
    struct Tx {
        Transfer transfer;
        uint32 seq;
        bytes senderSig;
        bytes receiverSig;
        bytes leaderSig;
    }

    struct Checkpoint {
        uint64 epoch;
        uint32 leader;
        uint32 nextLeader;
        uint256[] balances;
        uint256[] deposited;
        uint256 exitMask;
        bytes32 txRoot;
        uint32 txCount;
    }

    /// One slot: a checkpoint reads the member's address, deposit and exit flag with a single SLOAD.
    struct Member {
        address account;
        uint88 deposit; // cumulative deposit held for the member (after an exit: what was included)
        bool exited;
    }

    enum DisputePhase {
        None,
        Open, // challenged, waiting for the leader
        Responded, // leader answered, verdict known, waiting for resolve()
        LeaderWon // resolved for the leader, waiting for its checkpoint without the challenger's vote
    }

    /// Everything a checkpoint reads and writes, packed in one slot.
    struct Status {
        uint64 epoch; // last checkpointed epoch; epoch + 1 is the one running
        uint32 leader; // leader of the running epoch
        uint32 included; // members covered by the last checkpoint
        uint64 checkpointedAt; // time of the last checkpoint (deployment before the first)
        DisputePhase disputePhase;
        bool closed;
    }

    /// A dispute's state. Both lists may come in chunks, one transaction each: the challenger's (its leaves stored,
    /// its list is what it listed by `listDeadline`), then the leader's, compared entry by entry as it comes.
    struct Dispute {
        uint64 epoch;
        uint32 challenger;
        uint32 leader;
        uint64 serial; // numbers the disputes, so one's marks and leaves never meet another's
        uint64 listDeadline; // the challenger's chunks until then
        uint64 deadline; // the leader's answer until then; a leader silent or unfinished by then loses
        uint32 challengerCount; // entries listed so far
        uint32 challengerTotal; // entries the challenger said its list has
        uint32 challengerLastBad; // index + 1 of the challenger's last bad entry, 0 if none
        uint32 challengerLastSeq;
        uint32 leaderCount;
        uint32 leaderTotal;
        uint32 leaderLastBad;
        uint32 leaderLastSeq;
        uint32 matched; // leading entries equal in both lists: the first difference once below leaderCount
        bool answering; // the leader has sent a first chunk
        bool leaderRight;
        int256 challengerNet; // what the leader's valid entries move to (+) or from (-) the challenger
    }

    /// Where a list's chunk starts and what the scan of the chunks before it left.
    struct Scan {
        uint64 epoch;
        address challenger;
        address leader;
        uint256 start; // list index of the chunk's first entry
        uint32 lastSeq; // seq of the entry before it
        bytes32 marks; // names the list's transfer-id marks
        bool persist; // more chunks follow: marks must outlive this transaction
    }

    uint64 public immutable responseWindow;
    /// Seconds a checkpoint signed by a majority waits for a challenge from a member without a vote.
    uint64 public immutable challengeWindow;
    /// The least a join must bring: a member's vote counts, so a seat is not free.
    uint256 public immutable minDeposit;
    uint64 public immutable staleAfter;
    uint32 public immutable txCap;

    Status public status;
    /// keccak256(abi.encode(balances, deposited)) of the last checkpoint; callers that need them pass them back.
    bytes32 public stateHash;
    /// Cumulative checkpointed balances paid out to exited members.
    uint256 public paidIncluded;
    /// Leaders that lost a dispute in the running epoch (bit per member index).
    uint256 public bannedLeaders;
    Dispute public dispute;

    /// A checkpoint a majority signed, waiting out its challenge window (deadline 0: none).
    struct Pending {
        bytes32 cpHash;
        uint64 deadline;
        uint64 epoch;
        uint32 leader;
        uint256 unsigned; // members without a vote who may still challenge it
        uint256 contested; // members whose challenge the leader won: their balance must be what its list gives
    }

    Pending public pending;
    /// For a pending checkpoint's contested members: what the leader's list moves to (+) or from (-) each.
    mapping(uint64 epoch => mapping(uint256 index => int256)) private contestedNet;
    /// The challenger's leaves, by dispute serial (never cleared: resolving stays cheap whatever the list's size).
    mapping(uint64 serial => bytes32[]) private challengerLeaves;
    /// Transfer ids seen in a list that came in several chunks (a list in one chunk marks in transient storage).
    mapping(bytes32 mark => bool) private seenInList;
    uint64 private disputeSerial;

    Member[] private members;
    bytes32[] private peerKeys;
    mapping(address account => uint256) private indexPlusOne;
    /// Whether only invited accounts may join (the creator's chosen members), and who they are.
    bool public immutable inviteOnly;
    /// The block this channel was deployed in: where a reader's log queries start.
    uint64 public immutable deployedAt;
    mapping(address account => bool) public invited;
    mapping(bytes32 peerKey => bool) private peerKeyTaken;
    mapping(address account => uint256) public owed;

    event Joined(uint32 indexed index, address indexed account, bytes32 peerKey, uint256 amount);
    event Deposited(uint32 indexed index, uint256 amount, uint256 total);
    event CheckpointSubmitted(
        uint64 indexed epoch,
        uint32 leader,
        uint32 nextLeader,
        bytes32 txRoot,
        uint32 txCount,
        uint256 exitMask,
        uint256[] balances,
        uint256[] deposited
    );
    event Exited(uint32 indexed index, address indexed account, uint256 amount);
    event PaymentDeferred(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    /// A challenge opened with the first `listed` of `count` entries; the rest may follow until `listDeadline`, and
    /// the leader answers once the list is complete (or its time is up) until `deadline`.
    event Challenged(
        uint64 indexed epoch,
        uint32 challenger,
        uint32 leader,
        uint32 count,
        uint32 listed,
        uint64 listDeadline,
        uint64 deadline
    );
    /// A further chunk of the challenger's list; when `listed` reaches the count, the leader's window starts anew.
    event ChallengeListed(uint64 indexed epoch, uint32 listed, uint64 deadline);
    /// A chunk of the leader's answer, so a reader finds every transaction of it.
    event Answered(uint64 indexed epoch, uint32 listed);
    event Responded(uint64 indexed epoch, uint32 count, bool leaderRight);
    event DisputeResolved(uint64 indexed epoch, uint32 challenger, uint32 leader, bool leaderRight, uint32 nextLeader);
    event ChannelClosed(uint64 epoch);
    /// A checkpoint with a majority's votes: final after `deadline` unless a member without a vote wins a dispute.
    event CheckpointProposed(
        uint64 indexed epoch,
        uint32 leader,
        uint32 nextLeader,
        bytes32 txRoot,
        uint32 txCount,
        uint256 exitMask,
        uint256[] balances,
        uint256[] deposited,
        uint256 unsignedMask,
        uint64 deadline
    );

    error ChannelIsClosed();
    error AlreadyMember();
    error NotInvited(address account);
    error NotMember(address account);
    error MemberExited(uint32 index);
    error InvalidPeerKey();
    error ChannelFull();
    error InvalidAmount();
    error InvalidParams();
    /// A constructor parameter outside [min, max].
    error ParamOutOfRange(string param, uint256 min, uint256 max, uint256 got);
    error WrongEpoch(uint64 expected, uint64 got);
    error LengthMismatch();
    error WrongMemberCount(uint256 min, uint256 max, uint256 got);
    error InvalidExitMask();
    error InvalidLeader(uint32 index);
    error InvalidNextLeader(uint32 index);
    error ExitedMemberChanged(uint32 index);
    error DepositExceeded(uint32 index, uint256 held, uint256 claimed);
    error BadSignature(uint32 index);
    error BalancesNotConserved(uint256 balancesPlusPaid, uint256 deposited);
    error DisputePending();
    error NoOpenDispute();
    error NotDisputedLeader();
    error NotEpochLeader(uint32 index);
    error NoQuorum(uint256 signed, uint256 needed);
    error CheckpointPending();
    error NoPendingCheckpoint();
    error ChallengeWindowOpen(uint64 deadline);
    error ChallengeWindowOver(uint64 deadline);
    error NotAChallenger(uint32 index);
    error ResponseWindowOver(uint64 deadline);
    error ResponseWindowOpen(uint64 deadline);
    error ListTooLong(uint256 cap, uint256 got);
    error ListComplete();
    error ListIncomplete(uint64 listDeadline);
    error ListWindowOver(uint64 listDeadline);
    error NotChallenger();
    error StateMismatch();
    error ChallengerBalanceMismatch(uint256 expected, uint256 got);
    error ChallengerCannotExit();
    error NotStale(uint64 closableAt);
    error NothingOwed();
    error PaymentFailed();

    /// @param invited_ The accounts that may join; empty for a channel anyone may join.
    constructor(
        uint64 responseWindow_,
        uint64 staleAfter_,
        uint32 txCap_,
        uint64 challengeWindow_,
        uint256 minDeposit_,
        address[] memory invited_
    )
        EIP712("OffchainChannel", "1")
    {
        _bound("responseWindow", responseWindow_, MIN_RESPONSE_WINDOW, MAX_RESPONSE_WINDOW);
        _bound("challengeWindow", challengeWindow_, MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW);
        // A majority's checkpoint, challenged at the end of its window, then a list and an answer in chunks.
        uint256 windows = 2 * uint256(responseWindow_) + challengeWindow_ + 1;
        _bound("staleAfter", staleAfter_, windows > MIN_STALE_AFTER ? windows : MIN_STALE_AFTER, MAX_STALE_AFTER);
        _bound("txCap", txCap_, 1, MAX_TX_CAP);
        _bound("minDeposit", minDeposit_, 1, type(uint88).max); // a join brings at most uint88
        _bound("invited", invited_.length, 0, MAX_MEMBERS);
        challengeWindow = challengeWindow_;
        minDeposit = minDeposit_;
        inviteOnly = invited_.length > 0;
        deployedAt = uint64(block.number);
        for (uint256 i = 0; i < invited_.length; i++) invited[invited_[i]] = true;
        responseWindow = responseWindow_;
        staleAfter = staleAfter_;
        txCap = txCap_;
        status.checkpointedAt = uint64(block.timestamp);
        stateHash = keccak256(abi.encode(new uint256[](0), new uint256[](0)));
    }

    function _bound(string memory param, uint256 got, uint256 min, uint256 max) private pure {
        if (got < min || got > max) revert ParamOutOfRange(param, min, max, got);
    }

    // ---------------------------------------------------------------- membership and money in

    function join(bytes32 peerKey) external payable nonReentrant {
        if (status.closed) revert ChannelIsClosed();
        if (indexPlusOne[msg.sender] != 0) revert AlreadyMember();
        if (inviteOnly && !invited[msg.sender]) revert NotInvited(msg.sender);
        if (peerKey == bytes32(0) || peerKeyTaken[peerKey]) revert InvalidPeerKey();
        if (members.length >= MAX_MEMBERS) revert ChannelFull();
        if (msg.value < minDeposit || msg.value > type(uint88).max) revert InvalidAmount();
        members.push(Member(msg.sender, uint88(msg.value), false));
        peerKeys.push(peerKey);
        peerKeyTaken[peerKey] = true;
        indexPlusOne[msg.sender] = members.length;
        emit Joined(uint32(members.length - 1), msg.sender, peerKey, msg.value);
    }

    function deposit() external payable nonReentrant {
        if (status.closed) revert ChannelIsClosed();
        uint32 i = _activeIndexOf(msg.sender);
        uint256 total = uint256(members[i].deposit) + msg.value;
        if (msg.value == 0 || total > type(uint88).max) revert InvalidAmount();
        members[i].deposit = uint88(total);
        emit Deposited(i, msg.value, total);
    }

    // ---------------------------------------------------------------- checkpoints

    /// @notice Closes the running epoch with a checkpoint signed by every included, non-exited member.
    /// `sigs[i]` is member i's signature (ignored, and may be empty, for exited members).
    function submitCheckpoint(Checkpoint calldata cp, bytes[] calldata sigs) external nonReentrant {
        Status memory s = status;
        if (s.closed) revert ChannelIsClosed();
        if (s.disputePhase == DisputePhase.Open || s.disputePhase == DisputePhase.Responded) revert DisputePending();
        _checkCheckpoint(s, cp, sigs, type(uint256).max, false);
        _landCheckpoint(s, cp);
    }

    /// @notice B3: when the votes are not all in by the vote timeout, the leader puts the checkpoint here with the
    /// votes of a majority of its active members (its own among them; an empty signature marks a missing vote). It
    /// lands with finalizeCheckpoint() after the challenge window, unless a member without a vote wins a dispute.
    /// After a dispute it won, the leader may do so too (else one silent member would freeze the channel): the
    /// challenger counts towards the majority, its balance pinned to the leader's list as in a contested checkpoint.
    /// So may the leader a majority moved to afterwards (the verdict concerned the other leader's list only).
    function proposeCheckpoint(Checkpoint calldata cp, bytes[] calldata sigs) external nonReentrant {
        Status memory s = status;
        if (s.closed) revert ChannelIsClosed();
        if (pending.deadline != 0) revert CheckpointPending();
        uint256 contested;
        if (s.disputePhase == DisputePhase.LeaderWon) {
            Dispute memory d = dispute;
            if (cp.leader == d.leader) {
                contested = uint256(1) << d.challenger;
                contestedNet[d.epoch][d.challenger] = d.challengerNet;
            }
            status.disputePhase = DisputePhase.None;
            delete dispute;
        } else if (s.disputePhase != DisputePhase.None) {
            revert DisputePending();
        }
        (uint256 missing, uint256 active) = _checkCheckpoint(s, cp, sigs, type(uint256).max, true);
        missing &= ~contested;
        uint256 signed = active - _count(missing);
        if (signed * 2 <= active) revert NoQuorum(signed, active / 2 + 1);
        if ((missing >> cp.leader) & 1 == 1) revert BadSignature(cp.leader);
        uint64 deadline = uint64(block.timestamp) + challengeWindow;
        pending = Pending(keccak256(abi.encode(cp)), deadline, cp.epoch, cp.leader, missing, contested);
        emit CheckpointProposed(
            cp.epoch, cp.leader, cp.nextLeader, cp.txRoot, cp.txCount, cp.exitMask, cp.balances, cp.deposited, missing, deadline
        );
    }

    /// @notice After its challenge window, by anyone: the pending checkpoint lands. A member whose challenge the
    /// leader won gets the balance the leader's list gives it, so the caller passes the last checkpoint's balances
    /// and deposits (checked against `stateHash`).
    function finalizeCheckpoint(
        Checkpoint calldata cp,
        uint256[] calldata prevBalances,
        uint256[] calldata prevDeposited
    ) external nonReentrant {
        Status memory s = status;
        Pending memory p = pending;
        if (s.closed) revert ChannelIsClosed();
        if (p.deadline == 0 || keccak256(abi.encode(cp)) != p.cpHash) revert NoPendingCheckpoint();
        if (block.timestamp <= p.deadline) revert ChallengeWindowOpen(p.deadline);
        if (s.disputePhase != DisputePhase.None) revert DisputePending();
        if (p.contested != 0) {
            if (keccak256(abi.encode(prevBalances, prevDeposited)) != stateHash) revert StateMismatch();
            for (uint256 c = 0; c < cp.balances.length; ++c) {
                if ((p.contested >> c) & 1 == 0) continue;
                // A leader whose checkpoint contradicts the list it won with loses after all.
                if (!_contestedHolds(cp, c, contestedNet[p.epoch][c], prevBalances, prevDeposited)) {
                    return _banLeader(p.epoch, uint32(c), p.leader);
                }
            }
        }
        _landCheckpoint(s, cp);
    }

    /// @notice After a dispute the leader won: the leader's checkpoint without the challenger's vote. The
    /// challenger's balance must be what the contract computed from the leader's list, so the caller passes the last
    /// checkpoint's balances and deposits (checked against `stateHash`).
    function submitContestedCheckpoint(
        Checkpoint calldata cp,
        bytes[] calldata sigs,
        uint256[] calldata prevBalances,
        uint256[] calldata prevDeposited
    ) external nonReentrant {
        Status memory s = status;
        if (s.closed) revert ChannelIsClosed();
        if (s.disputePhase != DisputePhase.LeaderWon) revert NoOpenDispute();
        if (keccak256(abi.encode(prevBalances, prevDeposited)) != stateHash) revert StateMismatch();
        Dispute memory d = dispute;
        if (cp.leader != d.leader) revert InvalidLeader(cp.leader);
        _checkContested(cp, d.challenger, d.challengerNet, prevBalances, prevDeposited);
        _checkCheckpoint(s, cp, sigs, d.challenger, false);
        _landCheckpoint(s, cp);
    }

    /// A challenger that lost: its balance must be what the leader's list (net) gives it, and it cannot exit.
    function _checkContested(
        Checkpoint calldata cp,
        uint256 c,
        int256 net,
        uint256[] calldata prevBalances,
        uint256[] calldata prevDeposited
    ) private pure {
        if (c >= cp.balances.length || c >= cp.deposited.length) revert LengthMismatch();
        if ((cp.exitMask >> c) & 1 == 1) revert ChallengerCannotExit();
        int256 expected = _contestedBalance(cp, c, net, prevBalances, prevDeposited);
        if (expected < 0 || uint256(expected) != cp.balances[c]) {
            revert ChallengerBalanceMismatch(expected < 0 ? 0 : uint256(expected), cp.balances[c]);
        }
    }

    function _contestedHolds(
        Checkpoint calldata cp,
        uint256 c,
        int256 net,
        uint256[] calldata prevBalances,
        uint256[] calldata prevDeposited
    ) private pure returns (bool) {
        if (c >= cp.balances.length || (cp.exitMask >> c) & 1 == 1) return false;
        int256 expected = _contestedBalance(cp, c, net, prevBalances, prevDeposited);
        return expected >= 0 && uint256(expected) == cp.balances[c];
    }

    /// The last checkpoint's balance of `c`, plus the deposits included since, plus the leader's list's net.
    function _contestedBalance(
        Checkpoint calldata cp,
        uint256 c,
        int256 net,
        uint256[] calldata prevBalances,
        uint256[] calldata prevDeposited
    ) private pure returns (int256 expected) {
        expected = int256(cp.deposited[c]) + net;
        if (c < prevBalances.length) expected += int256(prevBalances[c]) - int256(prevDeposited[c]);
    }

    /// Checks a checkpoint of the running epoch: its shape, leaders, deposits, conservation, and the signature of
    /// every included active member but `unsigned`. With `quorum`, an empty signature is a missing vote (returned as
    /// a mask with the count of active members); any other must be valid.
    function _checkCheckpoint(Status memory s, Checkpoint calldata cp, bytes[] calldata sigs, uint256 unsigned, bool quorum)
        private
        view
        returns (uint256 missing, uint256 active)
    {
        if (cp.epoch != s.epoch + 1) revert WrongEpoch(s.epoch + 1, cp.epoch);
        uint256 n = cp.balances.length;
        if (n != cp.deposited.length || n != sigs.length) revert LengthMismatch();
        if (n < s.included || n > members.length) revert WrongMemberCount(s.included, members.length, n);
        if (cp.exitMask >> n != 0) revert InvalidExitMask();
        if (cp.leader >= n || members[cp.leader].exited || (bannedLeaders >> cp.leader) & 1 == 1) {
            revert InvalidLeader(cp.leader);
        }
        if (cp.nextLeader >= n || members[cp.nextLeader].exited || (cp.exitMask >> cp.nextLeader) & 1 == 1) {
            revert InvalidNextLeader(cp.nextLeader);
        }

        bytes32 digest = _hashTypedDataV4(_hashCheckpoint(cp));
        uint256 sumBalances;
        uint256 sumDeposited;
        for (uint256 i = 0; i < n; ++i) {
            Member memory m = members[i];
            uint256 b = cp.balances[i];
            uint256 dep = cp.deposited[i];
            if (m.exited) {
                if (b != 0 || dep != m.deposit || (cp.exitMask >> i) & 1 == 1) revert ExitedMemberChanged(uint32(i));
                sumDeposited += dep;
                continue;
            }
            if (dep > m.deposit) revert DepositExceeded(uint32(i), m.deposit, dep);
            ++active;
            if (quorum && sigs[i].length == 0) missing |= uint256(1) << i;
            else if (i != unsigned && !_signedBy(digest, sigs[i], m.account)) revert BadSignature(uint32(i));
            sumBalances += b;
            sumDeposited += dep;
        }
        if (sumBalances + paidIncluded != sumDeposited) revert BalancesNotConserved(sumBalances + paidIncluded, sumDeposited);
    }

    /// Lands a checked checkpoint: the next epoch begins under its next leader, exits are paid.
    function _landCheckpoint(Status memory s, Checkpoint calldata cp) private {
        uint256 n = cp.balances.length;
        uint256 paid = paidIncluded;
        status = Status(cp.epoch, cp.nextLeader, uint32(n), uint64(block.timestamp), DisputePhase.None, false);
        stateHash = keccak256(abi.encode(cp.balances, cp.deposited));
        if (bannedLeaders != 0) bannedLeaders = 0;
        if (s.disputePhase != DisputePhase.None) delete dispute;
        if (pending.deadline != 0) delete pending;
        emit CheckpointSubmitted(
            cp.epoch, cp.leader, cp.nextLeader, cp.txRoot, cp.txCount, cp.exitMask, cp.balances, cp.deposited
        );

        if (cp.exitMask != 0) _payExits(cp, paid);
    }

    /// Exiting members get their checkpointed balance plus any deposit the checkpoint did not include.
    function _payExits(Checkpoint calldata cp, uint256 paid) private {
        uint256 n = cp.balances.length;
        for (uint256 i = 0; i < n; ++i) {
            if ((cp.exitMask >> i) & 1 == 0) continue;
            Member storage m = members[i];
            uint256 b = cp.balances[i];
            uint256 amount = b + (m.deposit - cp.deposited[i]);
            paid += b;
            m.exited = true;
            m.deposit = uint88(cp.deposited[i]);
            emit Exited(uint32(i), m.account, amount);
            _pay(m.account, amount);
        }
        paidIncluded = paid;
    }

    // ---------------------------------------------------------------- disputes

    /// @notice A member disagreeing with the running epoch lists every receipted transfer of it that involves the
    /// member, ordered by seq, carrying receipts of `leader`. `led` and `ledSig` show that `leader` led the epoch:
    /// a checkpoint of it that `leader` signed as its leader (its proposal); a member that did not lead cannot be
    /// challenged, so it is never banned. `txs` is the list's first chunk of `total` entries; the rest follow with
    /// challengeMore() within the response window. The list is what was listed by then.
    function challenge(
        uint64 epoch,
        uint32 leader,
        Tx[] calldata txs,
        Checkpoint calldata led,
        bytes calldata ledSig,
        uint32 total
    ) external nonReentrant {
        Status memory s = status;
        if (s.closed) revert ChannelIsClosed();
        if (s.disputePhase != DisputePhase.None) revert DisputePending();
        if (epoch != s.epoch + 1) revert WrongEpoch(s.epoch + 1, epoch);
        uint32 c = _activeIndexOf(msg.sender);
        if (
            leader >= members.length || leader == c || members[leader].exited || (bannedLeaders >> leader) & 1 == 1
        ) revert InvalidLeader(leader);
        if (total > txCap) revert ListTooLong(txCap, total);
        if (txs.length > total) revert ListTooLong(total, txs.length);
        address leaderAccount = members[leader].account;
        Pending memory p = pending;
        if (p.deadline != 0) {
            // Against a majority's checkpoint: only a member without a vote, within the window; the pending
            // checkpoint, which its leader signed, shows who led.
            if ((p.unsigned >> c) & 1 == 0) revert NotAChallenger(c);
            if (block.timestamp > p.deadline) revert ChallengeWindowOver(p.deadline);
            if (leader != p.leader) revert NotEpochLeader(leader);
        } else if (
            led.epoch != epoch || led.leader != leader
                || !_signedBy(_hashTypedDataV4(_hashCheckpoint(led)), ledSig, leaderAccount)
        ) {
            revert NotEpochLeader(leader);
        }

        Dispute memory d;
        d.epoch = epoch;
        d.challenger = c;
        d.leader = leader;
        d.serial = ++disputeSerial;
        d.challengerTotal = total;
        // Until the list is complete: its chunks until listDeadline, then the leader's whole window.
        d.listDeadline = uint64(block.timestamp) + responseWindow;
        d.deadline = d.listDeadline + responseWindow;
        _listChallenger(d, txs, msg.sender, leaderAccount);
        dispute = d;
        status.disputePhase = DisputePhase.Open;
        emit Challenged(epoch, c, leader, total, d.challengerCount, d.listDeadline, d.deadline);
    }

    /// @notice The next chunk of the challenger's list, until its list deadline.
    function challengeMore(Tx[] calldata txs) external nonReentrant {
        if (status.disputePhase != DisputePhase.Open) revert NoOpenDispute();
        Dispute memory d = dispute;
        if (msg.sender != members[d.challenger].account) revert NotChallenger();
        if (d.challengerCount == d.challengerTotal) revert ListComplete();
        if (block.timestamp > d.listDeadline) revert ListWindowOver(d.listDeadline);
        if (d.challengerCount + txs.length > d.challengerTotal) {
            revert ListTooLong(d.challengerTotal - d.challengerCount, txs.length);
        }
        _listChallenger(d, txs, msg.sender, members[d.leader].account);
        dispute = d;
        emit ChallengeListed(d.epoch, d.challengerCount, d.deadline);
    }

    /// Scans and stores a chunk of the challenger's list; the list complete, the leader's window starts now.
    function _listChallenger(Dispute memory d, Tx[] calldata txs, address challenger, address leader) private {
        uint256 count = d.challengerCount + txs.length;
        Scan memory scan = Scan(
            d.epoch, challenger, leader, d.challengerCount, d.challengerLastSeq, _marks(d.serial, false), count < d.challengerTotal
        );
        (bytes32[] memory leaves, uint256 lastBad,) = _scanList(txs, scan);
        bytes32[] storage stored = challengerLeaves[d.serial];
        for (uint256 i = 0; i < leaves.length; ++i) stored.push(leaves[i]);
        if (lastBad != 0) d.challengerLastBad = uint32(lastBad);
        d.challengerLastSeq = scan.lastSeq;
        d.challengerCount = uint32(count);
        if (count == d.challengerTotal) {
            d.listDeadline = uint64(block.timestamp);
            d.deadline = uint64(block.timestamp) + responseWindow;
        }
    }

    /// @notice The challenged leader's own list of the epoch's receipted transfers involving the challenger, once
    /// the challenger's list is complete or its time is up: a chunk of `total` entries per call (the same `total`
    /// each time), compared with the challenger's entry by entry. The last chunk fixes the verdict; resolve()
    /// applies it.
    function respond(Tx[] calldata txs, uint32 total) external nonReentrant {
        if (status.disputePhase != DisputePhase.Open) revert NoOpenDispute();
        Dispute memory d = dispute;
        if (msg.sender != members[d.leader].account) revert NotDisputedLeader();
        if (d.challengerCount < d.challengerTotal && block.timestamp <= d.listDeadline) {
            revert ListIncomplete(d.listDeadline);
        }
        if (block.timestamp > d.deadline) revert ResponseWindowOver(d.deadline);
        if (!d.answering) {
            if (total > txCap) revert ListTooLong(txCap, total);
            d.answering = true;
            d.leaderTotal = total;
        } else if (total != d.leaderTotal) {
            revert LengthMismatch();
        }
        uint256 count = d.leaderCount + txs.length;
        if (count > total) revert ListTooLong(total - d.leaderCount, txs.length);

        Scan memory scan = Scan(
            d.epoch, members[d.challenger].account, msg.sender, d.leaderCount, d.leaderLastSeq, _marks(d.serial, true), count < total
        );
        (bytes32[] memory leaves, uint256 lastBad, int256 net) = _scanList(txs, scan);
        bytes32[] storage theirs = challengerLeaves[d.serial];
        // Only while every leader entry so far matched: after a difference `matched` stays where it was found.
        for (uint256 pos = d.leaderCount; pos < count && d.matched == pos; ++pos) {
            if (pos < d.challengerCount && theirs[pos] == leaves[pos - d.leaderCount]) ++d.matched;
        }
        if (lastBad != 0) d.leaderLastBad = uint32(lastBad);
        d.leaderLastSeq = scan.lastSeq;
        d.leaderCount = uint32(count);
        d.challengerNet += net;
        emit Answered(d.epoch, d.leaderCount);
        if (count == total) {
            d.leaderRight = _decide(d);
            status.disputePhase = DisputePhase.Responded;
            emit Responded(d.epoch, d.leaderCount, d.leaderRight);
        }
        dispute = d;
    }

    /// @notice Applies the verdict, by anyone, after the response or after the window (a leader silent or unfinished
    /// loses). Challenger right: the epoch restarts from the last checkpoint under the next leader in rotation and
    /// the loser may not checkpoint it. Leader right: its checkpoint may go on chain without the challenger's vote.
    function resolve() external nonReentrant {
        Status memory s = status;
        Dispute memory d = dispute;
        if (s.disputePhase == DisputePhase.Open) {
            if (block.timestamp <= d.deadline) revert ResponseWindowOpen(d.deadline);
        } else if (s.disputePhase != DisputePhase.Responded) {
            revert NoOpenDispute();
        }
        bool leaderRight = s.disputePhase == DisputePhase.Responded && d.leaderRight;
        if (leaderRight && pending.deadline != 0) {
            // A member without a vote lost against a majority's checkpoint: the checkpoint still waits out its
            // window, and lands only with the balance the leader's list gives that member.
            pending.unsigned &= ~(uint256(1) << d.challenger);
            pending.contested |= uint256(1) << d.challenger;
            contestedNet[d.epoch][d.challenger] = d.challengerNet;
            status.disputePhase = DisputePhase.None;
            delete dispute;
            emit DisputeResolved(d.epoch, d.challenger, d.leader, true, d.leader);
        } else if (leaderRight) {
            status.disputePhase = DisputePhase.LeaderWon;
            emit DisputeResolved(d.epoch, d.challenger, d.leader, true, d.leader);
        } else {
            _banLeader(d.epoch, d.challenger, d.leader);
        }
    }

    /// The leader lost: it may not checkpoint the epoch, which restarts from the last checkpoint under the next
    /// leader in rotation; a checkpoint of it waiting out its window is void.
    function _banLeader(uint64 epoch, uint32 challenger, uint32 leader) private {
        uint256 banned = bannedLeaders | (uint256(1) << leader);
        bannedLeaders = banned;
        uint32 next = _nextLeader(leader, banned);
        status.leader = next;
        status.disputePhase = DisputePhase.None;
        delete dispute;
        if (pending.deadline != 0) delete pending;
        emit DisputeResolved(epoch, challenger, leader, false, next);
    }

    /// Leaf hashes of a chunk, the list index + 1 of its last bad entry (0 if none), and the challenger's net from
    /// its good entries; `scan.lastSeq` moves on to the chunk's last seq. A leaf commits to the whole signed entry
    /// (receipt hash and the three signatures), so equal leaves mean equal entries, signatures included. Bad: wrong
    /// epoch, not involving the challenger, out of seq order, a transfer id seen earlier in the list, or any of the
    /// three signatures invalid.
    function _scanList(Tx[] calldata txs, Scan memory scan)
        private
        returns (bytes32[] memory leaves, uint256 lastBad, int256 net)
    {
        leaves = new bytes32[](txs.length);
        uint64 epoch = scan.epoch;
        address challenger = scan.challenger;
        for (uint256 i = 0; i < txs.length; ++i) {
            Tx calldata t = txs[i];
            Transfer calldata tr = t.transfer;
            bytes32 th = _hashTransfer(tr);
            bytes32 receipt = _hashReceipt(th, epoch, t.seq);
            leaves[i] = keccak256(
                abi.encode(receipt, keccak256(t.senderSig), keccak256(t.receiverSig), keccak256(t.leaderSig))
            );
            bool good = _firstSighting(tr.id, scan.marks, scan.persist) && tr.epoch == epoch && tr.from != tr.to
                && (tr.from == challenger || tr.to == challenger) && tr.amount <= type(uint88).max
                && (scan.start + i == 0 || t.seq > scan.lastSeq) && _signedBy(_hashTypedDataV4(th), t.senderSig, tr.from)
                && _signedBy(_hashTypedDataV4(th), t.receiverSig, tr.to)
                && _signedBy(_hashTypedDataV4(receipt), t.leaderSig, scan.leader);
            scan.lastSeq = t.seq;
            if (!good) lastBad = scan.start + i + 1;
            else if (tr.to == challenger) net += int256(tr.amount);
            else net -= int256(tr.amount);
        }
    }

    /// The seed's decision, over both whole lists: equal lists, leader right. Else from the first index where they
    /// differ: a bad challenger entry, leader right; else a bad leader entry, challenger right; else the longer
    /// challenger list wins and a list not longer loses.
    function _decide(Dispute memory d) private pure returns (bool leaderRight) {
        uint256 first = d.matched;
        if (d.challengerLastBad > first) return true;
        if (d.leaderLastBad > first) return false;
        return d.challengerCount <= d.leaderCount;
    }

    /// Names the transfer-id marks of one list: the challenger's or the leader's, of dispute `serial`.
    function _marks(uint64 serial, bool leaders) private pure returns (bytes32) {
        return keccak256(abi.encode("Channel.seen", serial, leaders));
    }

    /// True the first time `id` is seen in the list `marks` names. A list in one chunk marks in transient storage;
    /// a chunk with more to come marks in storage, which the later chunks read too.
    function _firstSighting(bytes16 id, bytes32 marks, bool persist) private returns (bool first) {
        bytes32 slot = keccak256(abi.encode(marks, id));
        bool seen;
        assembly ("memory-safe") {
            seen := tload(slot)
        }
        if (!seen) seen = seenInList[slot];
        if (persist) {
            if (!seen) seenInList[slot] = true;
        } else {
            assembly ("memory-safe") {
                tstore(slot, 1)
            }
        }
        return !seen;
    }

    function _count(uint256 mask) private pure returns (uint256 n) {
        for (; mask != 0; mask &= mask - 1) ++n;
    }

    function _nextLeader(uint32 from, uint256 banned) private view returns (uint32) {
        uint256 n = members.length;
        for (uint256 k = 1; k <= n; ++k) {
            uint256 j = (from + k) % n;
            if (!members[j].exited && (banned >> j) & 1 == 0) return uint32(j);
        }
        return from;
    }

    // ---------------------------------------------------------------- liveness and money out

    /// @notice After `staleAfter` seconds without a checkpoint any member closes the channel: each member is owed
    /// its last checkpointed balance plus the deposits that checkpoint did not include.
    function close(uint256[] calldata balances, uint256[] calldata deposited) external nonReentrant {
        Status memory s = status;
        if (s.closed) revert ChannelIsClosed();
        if (indexPlusOne[msg.sender] == 0) revert NotMember(msg.sender);
        uint64 closableAt = s.checkpointedAt + staleAfter;
        if (block.timestamp < closableAt) revert NotStale(closableAt);
        if (keccak256(abi.encode(balances, deposited)) != stateHash) revert StateMismatch();
        uint256 n = members.length;
        for (uint256 i = 0; i < n; ++i) {
            Member memory m = members[i];
            if (m.exited) continue;
            uint256 amount = i < balances.length ? balances[i] + m.deposit - deposited[i] : m.deposit;
            if (amount != 0) owed[m.account] += amount;
        }
        status.closed = true;
        if (pending.deadline != 0) delete pending;
        if (s.disputePhase != DisputePhase.None) {
            status.disputePhase = DisputePhase.None;
            delete dispute;
        }
        emit ChannelClosed(s.epoch);
    }

    /// @notice Pays what the caller is owed (a deferred payout or its share after a close).
    function withdraw() external nonReentrant {
        uint256 amount = owed[msg.sender];
        if (amount == 0) revert NothingOwed();
        owed[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert PaymentFailed();
        emit Withdrawn(msg.sender, amount);
    }

    /// Push with bounded gas so a hostile payee can neither re-enter (guarded) nor block a checkpoint.
    function _pay(address to, uint256 amount) private {
        if (amount == 0) return;
        (bool ok,) = to.call{value: amount, gas: PAYOUT_GAS}("");
        if (!ok) {
            owed[to] += amount;
            emit PaymentDeferred(to, amount);
        }
    }

    // ---------------------------------------------------------------- reads

    function memberCount() external view returns (uint256) {
        return members.length;
    }

    function member(uint256 index)
        external
        view
        returns (address account, bytes32 peerKey, uint256 deposited, bool exited)
    {
        Member memory m = members[index];
        return (m.account, peerKeys[index], m.deposit, m.exited);
    }

    /// Every member's record in one read: nodes read the list at every join, deposit, exit and proposal, and a call
    /// per member made that n calls for each of n nodes (4,000 calls at 64 members).
    function memberList()
        external
        view
        returns (address[] memory accounts, bytes32[] memory keys, uint256[] memory deposits, bool[] memory exited)
    {
        uint256 n = members.length;
        accounts = new address[](n);
        keys = new bytes32[](n);
        deposits = new uint256[](n);
        exited = new bool[](n);
        for (uint256 i = 0; i < n; i++) {
            Member memory m = members[i];
            (accounts[i], keys[i], deposits[i], exited[i]) = (m.account, peerKeys[i], m.deposit, m.exited);
        }
    }

    function indexOf(address account) external view returns (uint32) {
        uint256 i = indexPlusOne[account];
        if (i == 0) revert NotMember(account);
        return uint32(i - 1);
    }

    /// The open dispute's challenger leaves listed so far.
    function challengerList() external view returns (bytes32[] memory) {
        return challengerLeaves[dispute.serial];
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// Hash helpers exposed so off-chain code can be checked against the contract byte for byte.
    function hashTransfer(Transfer calldata t) external pure returns (bytes32) {
        return _hashTransfer(t);
    }

    function hashReceipt(bytes32 transfer, uint64 epoch, uint32 seq) external pure returns (bytes32) {
        return _hashReceipt(transfer, epoch, seq);
    }

    function hashCheckpoint(Checkpoint calldata cp) external pure returns (bytes32) {
        return _hashCheckpoint(cp);
    }

    function typedDataDigest(bytes32 structHash) external view returns (bytes32) {
        return _hashTypedDataV4(structHash);
    }

    function merkleRoot(bytes32[] calldata leaves) external pure returns (bytes32) {
        return PositionalMerkle.root(leaves);
    }

    // ---------------------------------------------------------------- internals

    function _activeIndexOf(address account) private view returns (uint32) {
        uint256 i = indexPlusOne[account];
        if (i == 0) revert NotMember(account);
        if (members[i - 1].exited) revert MemberExited(uint32(i - 1));
        return uint32(i - 1);
    }

    /// OpenZeppelin's tryRecover rejects malformed signatures (length, v) and malleable ones (high s).
    function _signedBy(bytes32 digest, bytes calldata sig, address expected) private pure returns (bool) {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, sig);
        return err == ECDSA.RecoverError.NoError && signer == expected;
    }

    function _hashTransfer(Transfer calldata t) private pure returns (bytes32) {
        return keccak256(abi.encode(TRANSFER_TYPEHASH, t.id, t.epoch, t.from, t.to, t.amount));
    }

    function _hashReceipt(bytes32 transfer, uint64 epoch, uint32 seq) private pure returns (bytes32) {
        return keccak256(abi.encode(RECEIPT_TYPEHASH, transfer, epoch, seq));
    }

    function _hashCheckpoint(Checkpoint calldata cp) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                CHECKPOINT_TYPEHASH,
                cp.epoch,
                cp.leader,
                cp.nextLeader,
                keccak256(abi.encodePacked(cp.balances)),
                keccak256(abi.encodePacked(cp.deposited)),
                cp.exitMask,
                cp.txRoot,
                cp.txCount
            )
        );
    }
}
