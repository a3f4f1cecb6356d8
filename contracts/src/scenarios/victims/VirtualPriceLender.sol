// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  DELIBERATELY VULNERABLE CONTRACT. DEVNET / SCENARIO USE ONLY. NEVER DEPLOY WITH REAL FUNDS.
//
//  Pattern 7, the lending side (Inverse Finance, UwU Lend): CurveLikePool LP tokens are
//  collateral, valued at the pool's `get_virtual_price()` read at the moment of the borrow. A
//  large swap through the pool in the same transaction inflates it (see CurveLikePool); the
//  attacker borrows against the inflated LP value and swaps back. A safe lender uses a
//  manipulation-resistant LP price (invariant-based, TWAP, or bounded by an external oracle).
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {CurveLikePool} from "./CurveLikePool.sol";
import {SimpleCollateralLender} from "./SimpleCollateralLender.sol";

/// @title VirtualPriceLender
/// @notice DELIBERATELY VULNERABLE lender of one of a CurveLikePool's coins against that pool's
/// LP token, priced at its virtual price (see header).
contract VirtualPriceLender is SimpleCollateralLender {
    /// @notice The pool whose LP token is the collateral.
    CurveLikePool public immutable pool;
    /// @dev 10 ** (18 - debt decimals): LP value (18 decimals) -> debt base units.
    uint256 private immutable _rate;

    error NotAPoolCoin(address token);

    /// @param pool_ Pool whose LP token is accepted.
    /// @param debtToken_ Token lent; must be one of the pool's coins.
    /// @param ltvBps_ Borrow limit in bps of collateral value (e.g. 7,500).
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param pauser Receives PAUSER_ROLE (the Vigil Guardian); address(0) to grant it later.
    constructor(CurveLikePool pool_, IERC20 debtToken_, uint256 ltvBps_, address admin, address pauser)
        SimpleCollateralLender(IERC20(address(pool_)), debtToken_, ltvBps_, admin, pauser)
    {
        if (pool_.coins(0) != address(debtToken_) && pool_.coins(1) != address(debtToken_)) {
            revert NotAPoolCoin(address(debtToken_));
        }
        pool = pool_;
        _rate = 10 ** (18 - IERC20Metadata(address(debtToken_)).decimals());
    }

    /// @dev VULNERABLE: LP valued at the pool's current virtual price.
    function _collateralValue(uint256 lpAmount) internal view override returns (uint256) {
        return Math.mulDiv(lpAmount, pool.get_virtual_price(), 1e18 * _rate);
    }
}
