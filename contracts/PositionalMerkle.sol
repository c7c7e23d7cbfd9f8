// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/// @notice Positional keccak Merkle root: parent = keccak256(left, right) in list order (not sorted), an odd last
/// node is carried up unchanged, the root of no leaves is zero. core/protocol/merkle.ts computes the same root.
library PositionalMerkle {
    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        uint256 n = leaves.length;
        if (n == 0) return bytes32(0);
        if (n == 1) return leaves[0];
        // Work on a copy so the caller's leaves stay intact.
        bytes32[] memory level = new bytes32[]((n + 1) / 2);
        for (uint256 i = 0; i + 1 < n; i += 2) level[i / 2] = Hashes.efficientKeccak256(leaves[i], leaves[i + 1]);
        if (n % 2 == 1) level[n / 2] = leaves[n - 1];
        n = level.length;
        while (n > 1) {
            uint256 half = (n + 1) / 2;
            for (uint256 i = 0; i + 1 < n; i += 2) level[i / 2] = Hashes.efficientKeccak256(level[i], level[i + 1]);
            if (n % 2 == 1) level[n / 2] = level[n - 1];
            n = half;
        }
        return level[0];
    }
}
