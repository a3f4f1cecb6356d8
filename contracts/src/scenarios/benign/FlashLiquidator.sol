// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";
import {V2Math} from "../../devnet/libraries/V2Math.sol";
import {FlashFunded} from "../common/FlashFunded.sol";
import {LpCollateralLender} from "../victims/LpCollateralLender.sol";

/// @title FlashLiquidator
/// @notice BENIGN look-alike: a liquidation bot for LpCollateralLender. With borrowed (or own)
/// debt tokens it repays part of a position that a genuine price move has pushed over the
/// liquidation threshold, receives the LP collateral plus the bonus, burns the LP in the pair,
/// sells the pair's other token back and repays the loan. Collateral leaves the lender to a
/// contract, inside a flash loan, with a swap through the priced pair — yet the lender is
/// repaid the debt and ends healthier.
contract FlashLiquidator is FlashFunded {
    using SafeERC20 for IERC20;

    event Liquidation(address indexed lender, address indexed borrower, uint256 repaid, uint256 seized, uint256 profit);

    error ProfitBelowMinimum(uint256 profit, uint256 minProfit);

    /// @dev LP seized by the liquidation in progress, for the event.
    uint256 private transient _seized;

    /// @notice Liquidates `repayAmount` of `borrower`'s debt with `funding` (token = the
    /// lender's debt token, amount >= repayAmount). Reverts unless the profit reaches `minProfit`.
    /// @return profit Debt tokens gained (sent to the owner).
    function liquidate(
        Funding calldata funding,
        LpCollateralLender lender,
        address borrower,
        uint256 repayAmount,
        uint256 minProfit
    ) external onlyOwner returns (uint256 profit) {
        profit = _fund(funding, abi.encode(lender, borrower, repayAmount));
        if (profit < minProfit) revert ProfitBelowMinimum(profit, minProfit);
        _sweep(funding.token);
        emit Liquidation(address(lender), borrower, repayAmount, _seized, profit);
    }

    /// @dev Repay, seize, unwrap the LP, sell the non-debt side.
    function _exploit(uint256, bytes memory data) internal override {
        (LpCollateralLender lender, address borrower, uint256 repayAmount) =
            abi.decode(data, (LpCollateralLender, address, uint256));
        IUniswapV2Pair pair = lender.pair();
        address debt = address(lender.debtToken());

        IERC20(debt).forceApprove(address(lender), repayAmount);
        uint256 seized = lender.liquidate(borrower, repayAmount);

        IERC20(address(pair)).safeTransfer(address(pair), seized);
        pair.burn(address(this));
        address other = V2Math.otherToken(pair, debt);
        V2Math.swapExactIn(pair, other, IERC20(other).balanceOf(address(this)), address(this));
        _seized = seized;
    }
}
