// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Shadow precompile (0x5002), on user chains: each hot account's shadow on this chain.
/// @notice pay is a commutative delta; payout spends only `available` and never overdraws.
interface IShadow {
    event Paid(address indexed merchant, address indexed payer, string asset, uint256 amount, bytes32 ref);
    event PaidOut(address indexed merchant, address indexed to, string asset, uint256 amount, bytes32 ref);
    event EpochSettled(uint64 indexed seq, bytes summary);
    event PacketSent(uint64 indexed seq, bytes packet);

    /// ADMIN only.
    function registerMerchant(address merchant, address operator, string calldata asset) external;
    function pay(address merchant, string calldata asset, uint256 amount, bytes32 ref) external;
    /// The merchant's operator only.
    function payout(address merchant, address to, string calldata asset, uint256 amount, bytes32 ref) external;
    /// The merchant's operator only: available → hub reserve, as an ordered packet.
    function sweep(address merchant, string calldata asset, uint256 amount) external returns (uint64);
    /// SETTLER only: close the epoch; returns its seq, or 0 when nothing happened.
    function settle() external returns (uint64);
    function setHub(bytes calldata client) external;
    function updateHub(bytes calldata header, bytes calldata cert, bytes calldata nextValidators) external returns (uint8);
    function recvAllocation(bytes calldata bundle) external returns (uint8);
    function shadowOf(address merchant, string calldata asset)
        external view returns (uint256 available, uint256 pendingIncome, uint256 opening, uint64 payCount, uint64 openOps);
    function epoch() external view returns (uint64 seq, bytes32 prevHash, uint64 fromHeight, uint64 allocSeq, uint64 sweepSeq);
    function openOperations() external view returns (uint64);
    function operatorOf(address merchant) external view returns (address);
}

IShadow constant SHADOW = IShadow(address(0x5002));
