// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Ledger precompile (0x5001): balances per asset code in integer minor units.
/// @notice msg.sender is the account that pays: a contract calling transfer moves its own balance.
interface ILedger {
    event Issued(string asset, address indexed to, uint256 amount);
    event Redeemed(string asset, address indexed from, uint256 amount);
    event Transfer(string asset, address indexed from, address indexed to, uint256 amount);

    /// ISSUER only: mint (a bank deposit).
    function issue(string calldata asset, address to, uint256 amount) external;
    /// ISSUER only: burn (a withdrawal).
    function redeem(string calldata asset, address from, uint256 amount) external;
    function transfer(string calldata asset, address to, uint256 amount) external;
    function balanceOf(string calldata asset, address owner) external view returns (uint256);
    function totalSupply(string calldata asset) external view returns (uint256);
}

ILedger constant LEDGER = ILedger(address(0x5001));
