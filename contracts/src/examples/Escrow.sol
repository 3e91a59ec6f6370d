// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {LEDGER} from "../interfaces/ILedger.sol";

/// @title Escrow: holds a buyer's Ledger funds until an arbiter releases them
/// to the seller or refunds the buyer.
/// @notice The buyer first moves the amount to this contract with
/// Ledger.transfer(asset, escrow, amount), then calls open(); the contract's
/// own Ledger balance backs every open deal.
contract Escrow {
    struct Deal {
        address buyer;
        address seller;
        uint256 amount;
        bool open;
    }

    address public immutable arbiter;
    string public asset;
    uint256 public committed;
    mapping(uint256 => Deal) public deals;
    uint256 public nextDeal;

    event Opened(uint256 indexed id, address indexed buyer, address indexed seller, uint256 amount);
    event Closed(uint256 indexed id, address indexed to, uint256 amount, bool released);

    constructor(address arbiter_, string memory asset_) {
        arbiter = arbiter_;
        asset = asset_;
    }

    function open(address seller, uint256 amount) external returns (uint256 id) {
        require(amount > 0, "Escrow: empty deal");
        uint256 held = LEDGER.balanceOf(asset, address(this));
        require(held >= committed + amount, "Escrow: deposit the amount first");
        committed += amount;
        id = nextDeal++;
        deals[id] = Deal(msg.sender, seller, amount, true);
        emit Opened(id, msg.sender, seller, amount);
    }

    function release(uint256 id) external {
        _close(id, true);
    }

    function refund(uint256 id) external {
        _close(id, false);
    }

    function _close(uint256 id, bool toSeller) private {
        require(msg.sender == arbiter, "Escrow: only the arbiter");
        Deal storage d = deals[id];
        require(d.open, "Escrow: no open deal");
        d.open = false;
        committed -= d.amount;
        address to = toSeller ? d.seller : d.buyer;
        LEDGER.transfer(asset, to, d.amount);
        emit Closed(id, to, d.amount, toSeller);
    }
}
