// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUniswapV2Pair} from "../interfaces/IUniswapV2Pair.sol";

/// @title V2Math
/// @notice Router-less Uniswap V2 helpers: v2-core ships no router, so devnet contracts quote and
/// swap directly against a pair (transfer the input in, then call `pair.swap`).
library V2Math {
    using SafeERC20 for IERC20;

    error InsufficientInputAmount();
    error InsufficientLiquidity();
    error TokenNotInPair(address token, address pair);

    /// @notice Output of an exact-in swap after the 0.3% LP fee (same formula as
    /// UniswapV2Library.getAmountOut).
    function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) internal pure returns (uint256) {
        if (amountIn == 0) revert InsufficientInputAmount();
        if (reserveIn == 0 || reserveOut == 0) revert InsufficientLiquidity();
        uint256 amountInWithFee = amountIn * 997;
        return (amountInWithFee * reserveOut) / (reserveIn * 1000 + amountInWithFee);
    }

    /// @notice What must be paid back to a pair for a same-token flash swap of `amountOut`: the
    /// k-check `balanceAdjusted = balance * 1000 - amountIn * 3` needs `repay * 997 >= amountOut * 1000`.
    function flashSwapRepayment(uint256 amountOut) internal pure returns (uint256) {
        return amountOut + (amountOut * 3) / 997 + 1;
    }

    /// @notice The pair's reserves oriented as (reserve of `tokenIn`, reserve of the other token).
    function reservesFor(IUniswapV2Pair pair, address tokenIn)
        internal
        view
        returns (uint256 reserveIn, uint256 reserveOut)
    {
        (uint112 r0, uint112 r1,) = pair.getReserves();
        if (tokenIn == pair.token0()) return (r0, r1);
        if (tokenIn == pair.token1()) return (r1, r0);
        revert TokenNotInPair(tokenIn, address(pair));
    }

    /// @notice The other token of the pair.
    function otherToken(IUniswapV2Pair pair, address token) internal view returns (address) {
        address t0 = pair.token0();
        address t1 = pair.token1();
        if (token == t0) return t1;
        if (token == t1) return t0;
        revert TokenNotInPair(token, address(pair));
    }

    /// @notice Quote of an exact-in swap through `pair` at its current reserves.
    function quote(IUniswapV2Pair pair, address tokenIn, uint256 amountIn) internal view returns (uint256) {
        (uint256 reserveIn, uint256 reserveOut) = reservesFor(pair, tokenIn);
        return getAmountOut(amountIn, reserveIn, reserveOut);
    }

    /// @notice Swaps exactly `amountIn` of `tokenIn` held by this contract through `pair`,
    /// sending the output to `to`. No slippage limit: devnet helper only.
    /// @return amountOut Amount of the other token sent to `to`.
    function swapExactIn(IUniswapV2Pair pair, address tokenIn, uint256 amountIn, address to)
        internal
        returns (uint256 amountOut)
    {
        amountOut = quote(pair, tokenIn, amountIn);
        IERC20(tokenIn).safeTransfer(address(pair), amountIn);
        (uint256 amount0Out, uint256 amount1Out) =
            tokenIn == pair.token0() ? (uint256(0), amountOut) : (amountOut, uint256(0));
        pair.swap(amount0Out, amount1Out, to, "");
    }
}
