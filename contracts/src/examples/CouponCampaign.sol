// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {SHADOW} from "../interfaces/IShadow.sol";

/// @title CouponCampaign: a merchant's coupon campaign that pays coupons out of
/// the merchant's shadow on this chain, within a daily cap.
/// @notice Register this contract as the merchant's operator on the Shadow
/// precompile; payouts then come from the shadow's `available` and can never
/// overdraw it. Each coupon code is redeemed once.
contract CouponCampaign {
    address public immutable merchant;
    address public immutable owner;
    string public asset;
    uint256 public immutable couponValue;
    uint256 public immutable dailyCap;

    uint256 public day;
    uint256 public spentToday;
    mapping(bytes32 => bool) public redeemed;

    event CouponRedeemed(bytes32 indexed code, address indexed to, uint256 amount);

    constructor(address merchant_, string memory asset_, uint256 couponValue_, uint256 dailyCap_) {
        require(couponValue_ > 0 && couponValue_ <= dailyCap_, "CouponCampaign: bad value or cap");
        merchant = merchant_;
        owner = msg.sender;
        asset = asset_;
        couponValue = couponValue_;
        dailyCap = dailyCap_;
    }

    /// Redeem a coupon (the owner issues codes off-chain and redeems them for users).
    function redeem(bytes32 code, address to) external {
        require(msg.sender == owner, "CouponCampaign: only the owner redeems");
        require(!redeemed[code], "CouponCampaign: coupon already redeemed");
        uint256 today = block.timestamp / 1 days;
        if (today != day) {
            day = today;
            spentToday = 0;
        }
        require(spentToday + couponValue <= dailyCap, "CouponCampaign: daily cap reached");
        redeemed[code] = true;
        spentToday += couponValue;
        SHADOW.payout(merchant, to, asset, couponValue, code);
        emit CouponRedeemed(code, to, couponValue);
    }
}
