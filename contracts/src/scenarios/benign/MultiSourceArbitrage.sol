// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";
import {V2Math} from "../../devnet/libraries/V2Math.sol";
import {FlashFunded} from "../common/FlashFunded.sol";

/// @title MultiSourceArbitrage
/// @notice BENIGN look-alike: flash-borrows (from any FlashFunded source, or uses own capital),
/// buys an asset on the cheaper of two Uniswap V2 pairs of the same tokens, sells it all on the
/// dearer one, repays and keeps the spread. The call tree resembles an attack (loan, swaps that
/// move prices, repayment) but no protected contract is touched or loses value.
contract MultiSourceArbitrage is FlashFunded {
    event Arbitrage(address indexed token, address indexed buyPair, address indexed sellPair, uint256 amount, uint256 profit);

    error PairsMismatch();
    error ProfitBelowMinimum(uint256 profit, uint256 minProfit);

    /// @dev Pairs chosen by the arbitrage in progress, for the event.
    address private transient _buyPair;
    address private transient _sellPair;

    /// @notice Arbitrages `pairA` against `pairB` with `funding` (token = the token to profit in).
    /// Both pairs must hold `funding.token` and the same other asset; neither may be the funding
    /// pair of a flash swap. Reverts unless the profit reaches `minProfit`.
    /// @return profit Tokens gained (sent to the owner).
    function arbitrage(Funding calldata funding, IUniswapV2Pair pairA, IUniswapV2Pair pairB, uint256 minProfit)
        external
        onlyOwner
        returns (uint256 profit)
    {
        profit = _fund(funding, abi.encode(address(funding.token), pairA, pairB));
        if (profit < minProfit) revert ProfitBelowMinimum(profit, minProfit);
        _sweep(funding.token);
        emit Arbitrage(address(funding.token), _buyPair, _sellPair, funding.amount, profit);
    }

    /// @dev The trade: buy on the cheaper pair with all the capital, sell everything on the other.
    function _exploit(uint256 amount, bytes memory data) internal override {
        (address token, IUniswapV2Pair pairA, IUniswapV2Pair pairB) = abi.decode(data, (address, IUniswapV2Pair, IUniswapV2Pair));
        if (address(pairA) == address(pairB)) revert PairsMismatch();
        address asset = V2Math.otherToken(pairA, token);
        if (V2Math.otherToken(pairB, token) != asset) revert PairsMismatch();
        (uint256 tokenA, uint256 assetA) = V2Math.reservesFor(pairA, token);
        (uint256 tokenB, uint256 assetB) = V2Math.reservesFor(pairB, token);
        // The asset is cheaper on A if tokenA / assetA < tokenB / assetB.
        (IUniswapV2Pair buyPair, IUniswapV2Pair sellPair) =
            tokenA * assetB < tokenB * assetA ? (pairA, pairB) : (pairB, pairA);

        uint256 bought = V2Math.swapExactIn(buyPair, token, amount, address(this));
        V2Math.swapExactIn(sellPair, asset, bought, address(this));
        _buyPair = address(buyPair);
        _sellPair = address(sellPair);
    }
}
