// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Test-only code for a member's account (installed as an EIP-7702 delegation): on every payment it tries to
/// re-enter the channel's withdraw() and records how that went.
contract ReentrantPayee {
    uint256 public received;
    uint256 public reentryAttempts;
    uint256 public reentrySuccesses;
    bytes4 public lastReentryError;

    receive() external payable {
        received += msg.value;
        reentryAttempts += 1;
        (bool ok, bytes memory ret) = msg.sender.call(abi.encodeWithSignature("withdraw()"));
        if (ok) reentrySuccesses += 1;
        else if (ret.length >= 4) lastReentryError = bytes4(ret);
    }
}

/// Test-only code for a member's account that refuses every payment.
contract RefusingPayee {
    receive() external payable {
        revert("no thanks");
    }
}
