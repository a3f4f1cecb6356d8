// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  DELIBERATELY VULNERABLE CONTRACT. DEVNET / SCENARIO USE ONLY. NEVER DEPLOY WITH REAL FUNDS.
//
//  Pattern 4 (Warp Finance, OneRing): LP tokens of a Uniswap V2 pair are accepted as
//  collateral and priced as (reserve0 * p0 + reserve1 * p1) / totalSupply with SPOT reserves,
//  the non-stable token itself priced from the same pair's spot ratio. That makes one LP token
//  worth 2 * reserveStable / totalSupply: a big swap of the stable into the pair inflates every
//  LP token's value in the same transaction, so a small LP position borrows the whole market.
//  A safe lender prices LP with the manipulation-resistant "fair reserves" formula
//  (2 * sqrt(k * p0 * p1) / totalSupply) and external prices.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";
import {SimpleCollateralLender} from "./SimpleCollateralLender.sol";

/// @title LpCollateralLender
/// @notice DELIBERATELY VULNERABLE lender of a stable token against Uniswap V2 LP tokens of a
/// stable/other pair, valued from the pair's spot reserves. Has liquidations with a bonus, used
/// by the benign flash-loan liquidator after a genuine price fall.
contract LpCollateralLender is SimpleCollateralLender {
    using SafeERC20 for IERC20;

    /// @notice The Uniswap V2 pair whose LP token is the collateral (and whose reserves price it).
    IUniswapV2Pair public immutable pair;
    /// @notice Debt above this share of collateral value (bps) makes a position liquidatable.
    uint256 public immutable liquidationThresholdBps;
    /// @notice Extra collateral value a liquidator receives over the debt repaid (bps).
    uint256 public immutable liquidationBonusBps;

    bool private immutable _debtIsToken0;

    event Liquidate(address indexed liquidator, address indexed borrower, uint256 repaid, uint256 seized);

    error PairMismatch(address pair);
    error InvalidLiquidationParams();
    error NotLiquidatable(address user, uint256 debt, uint256 threshold);

    /// @param pair_ Uniswap V2 pair containing `debtToken_`; its LP token is the collateral.
    /// @param debtToken_ Stable token lent (valued at 1 base unit per base unit).
    /// @param ltvBps_ Borrow limit in bps of collateral value (e.g. 7,500).
    /// @param liquidationThresholdBps_ Liquidation threshold in bps, in [ltv, 10,000) (e.g. 8,500).
    /// @param liquidationBonusBps_ Liquidation bonus in bps (e.g. 500).
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param pauser Receives PAUSER_ROLE (the Vigil Guardian); address(0) to grant it later.
    constructor(
        IUniswapV2Pair pair_,
        IERC20 debtToken_,
        uint256 ltvBps_,
        uint256 liquidationThresholdBps_,
        uint256 liquidationBonusBps_,
        address admin,
        address pauser
    ) SimpleCollateralLender(IERC20(address(pair_)), debtToken_, ltvBps_, admin, pauser) {
        bool debtIsToken0 = pair_.token0() == address(debtToken_);
        if (!debtIsToken0 && pair_.token1() != address(debtToken_)) revert PairMismatch(address(pair_));
        if (liquidationThresholdBps_ < ltvBps_ || liquidationThresholdBps_ >= 10_000 || liquidationBonusBps_ > 5_000) {
            revert InvalidLiquidationParams();
        }
        pair = pair_;
        liquidationThresholdBps = liquidationThresholdBps_;
        liquidationBonusBps = liquidationBonusBps_;
        _debtIsToken0 = debtIsToken0;
    }

    /// @notice Repays up to `repayAmount` of an over-threshold borrower's debt (pulled from the
    /// caller) and transfers LP collateral worth the repayment plus the bonus to the caller.
    /// @return seized LP tokens sent to the caller.
    function liquidate(address borrower, uint256 repayAmount)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 seized)
    {
        uint256 debt = debtOf[borrower];
        uint256 threshold = liquidationThreshold(borrower);
        if (debt <= threshold) revert NotLiquidatable(borrower, debt, threshold);

        uint256 paid = _reduceDebt(borrower, repayAmount);
        uint256 owedValue = (paid * (10_000 + liquidationBonusBps)) / 10_000;
        seized = Math.min(collateralOf[borrower], Math.mulDiv(owedValue, 1e18, lpPrice()));
        collateralOf[borrower] -= seized;

        debtToken.safeTransferFrom(msg.sender, address(this), paid);
        collateralToken.safeTransfer(msg.sender, seized);
        emit Liquidate(msg.sender, borrower, paid, seized);
    }

    /// @notice Value of 1e18 LP base units in debt-token base units.
    function lpPrice() public view returns (uint256) {
        (uint112 r0, uint112 r1,) = pair.getReserves();
        (uint256 reserveDebt, uint256 reserveOther) = _debtIsToken0 ? (r0, r1) : (r1, r0);
        // VULNERABLE: the other token's price is this very pair's spot ratio
        // (debt base units per 1e18 base units of the other token).
        uint256 otherPrice = Math.mulDiv(reserveDebt, 1e18, reserveOther);
        // VULNERABLE: naive reserve0 * p0 + reserve1 * p1 with spot reserves.
        uint256 poolValue = reserveDebt + Math.mulDiv(reserveOther, otherPrice, 1e18);
        return Math.mulDiv(poolValue, 1e18, pair.totalSupply());
    }

    /// @notice Debt above which `user` can be liquidated.
    function liquidationThreshold(address user) public view returns (uint256) {
        return (collateralValue(user) * liquidationThresholdBps) / 10_000;
    }

    /// @notice Whether `user`'s debt exceeds the liquidation threshold.
    function isLiquidatable(address user) external view returns (bool) {
        return debtOf[user] > liquidationThreshold(user);
    }

    function _collateralValue(uint256 amount) internal view override returns (uint256) {
        return Math.mulDiv(amount, lpPrice(), 1e18);
    }
}
